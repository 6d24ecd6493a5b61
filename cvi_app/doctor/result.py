"""What a check returns (`CheckResult`, `Status`), and the timeout every check shares."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

Status = Literal["ok", "warn", "fail", "info"]

DEFAULT_TIMEOUT = 5.0
"""Seconds any one check may wait for a server, a process or a name lookup."""

_LABELS: dict[Status, str] = {"ok": "ok", "warn": "warn", "fail": "FAIL", "info": "info"}
_WIDTH = 6


class CheckResult(BaseModel):
    """What one check found.

    Attributes:
        name: Which check (`settings`, `mode`, `api`, `daily`, `public_url`, `database`, `redis`).
        status: `ok`; `warn` (works, but something will not); `fail` (fix it before relying on
            it); `info` (not needed in this setup, or not running yet).
        message: What was found, in plain words (no secrets).
        fix: What to do about it, when there is something to do.
    """

    model_config = ConfigDict(frozen=True)

    name: str
    status: Status
    message: str
    fix: str | None = None

    @property
    def failed(self) -> bool:
        """Whether this result makes the doctor exit with status 1."""
        return self.status == "fail"

    def line(self) -> str:
        """The printed form: label, message, `. Fix: ...`; later lines of a message indented."""
        text = self.message.rstrip()
        if self.fix:
            text = f"{text.rstrip('.')}. Fix: {self.fix}"
        first, *rest = text.splitlines() or [""]
        lines = [f"{_LABELS[self.status]:<{_WIDTH}}{first}"]
        lines.extend(f"{'':<{_WIDTH}}{line.strip()}" for line in rest)
        return "\n".join(lines)


def _result(name: str, status: Status, message: str, fix: str | None = None) -> CheckResult:
    return CheckResult(name=name, status=status, message=message, fix=fix)
