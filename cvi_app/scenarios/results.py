"""What a scenario run found: per turn passed, failed or not checked, each failure with its reason.

The models are plain data (they are kept as JSON under `.data/scenarios/` and shown on the
studio's `/scenarios` page); `ScenarioResult.report()` is the text the command prints.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["EndResult", "ScenarioResult", "ToolSeen", "TurnResult", "quoted"]

Status = Literal["passed", "failed", "skipped"]
"""`skipped`: not checked (Tavus's test mode has no replica to answer)."""

MAX_KEPT_TEXT = 1000
"""Characters of a reply or tool output a result keeps."""


def quoted(text: str, limit: int = 200) -> str:
    """`text` on one line in double quotes, cut to `limit` characters."""
    line = " ".join(text.split())
    if len(line) > limit:
        line = line[: limit - 1].rstrip() + "…"
    return f'"{line}"'


def _kept(text: str) -> str:
    return text if len(text) <= MAX_KEPT_TEXT else text[: MAX_KEPT_TEXT - 1] + "…"


class _Data(BaseModel):
    model_config = ConfigDict(extra="ignore")


class ToolSeen(_Data):
    """A tool call the replica made during a turn, and how it went."""

    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    status: str = "pending"
    output: str | None = None

    def kept(self) -> ToolSeen:
        """The call with its output cut to what a result keeps."""
        output = _kept(self.output) if self.output is not None else None
        return self.model_copy(update={"output": output})


class TurnResult(_Data):
    """One turn: what was said, what came back, and whether it met the expectations."""

    index: int
    """The turn's number, from 1."""
    said: str
    status: Status
    failures: list[str] = Field(default_factory=list)
    reply: str = ""
    tools: list[ToolSeen] = Field(default_factory=list)
    latency_s: float | None = None
    """Seconds from the turn being sent to the replica starting to speak."""
    duration_s: float = 0.0
    note: str = ""
    """Why it was not checked (`skipped`)."""

    def line(self) -> str:
        """The turn in one line, then one indented line per failure."""
        head = (
            f"turn {self.index} {self.status.upper() if self.status == 'failed' else self.status}"
        )
        facts = []
        if self.latency_s is not None:
            facts.append(f"latency {self.latency_s:.2f} s")
        if self.tools:
            facts.append("called " + ", ".join(t.name for t in self.tools))
        detail = f" ({'; '.join(facts)})" if facts else ""
        lines = [f"  {head}: {quoted(self.said, 80)}{detail}"]
        lines += [f"      {failure}" for failure in self.failures]
        if self.note:
            lines.append(f"      {self.note}")
        return "\n".join(lines)


class EndResult(_Data):
    """How the conversation ended, against what the scenario expected."""

    expected: Literal["hang_up", "timeout"] = "hang_up"
    status: Status
    reason: str | None = None
    """The end reason the session saw."""
    failures: list[str] = Field(default_factory=list)
    note: str = ""

    def line(self) -> str:
        """The end in one line, then one indented line per failure."""
        how = "hung up" if self.expected == "hang_up" else "expected to end by itself"
        said = f", reason {quoted(self.reason, 120)}" if self.reason else ""
        head = "FAILED" if self.status == "failed" else self.status
        lines = [f"  end {head}: {how}{said}"]
        lines += [f"      {failure}" for failure in self.failures]
        if self.note:
            lines.append(f"      {self.note}")
        return "\n".join(lines)


class ScenarioResult(_Data):
    """One scenario's run."""

    run_id: str = Field(default_factory=lambda: uuid.uuid4().hex[:16])
    name: str
    source: str
    """The scenario's file (or `scenario` for one given as a model)."""
    mode: str
    persona: str
    started_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    duration_s: float = 0.0
    conversation_id: str | None = None
    greeting: str = ""
    """What the replica said first, before the turns."""
    turns: list[TurnResult] = Field(default_factory=list)
    end: EndResult | None = None
    error: str | None = None
    """Why the scenario could not run at all (the conversation did not start, say)."""
    notes: list[str] = Field(default_factory=list)
    """What this run could not check, and where it ran."""

    @property
    def passed(self) -> bool:
        """Nothing failed (turns not checked do not count as failures)."""
        return self.error is None and self.failed_count == 0

    @property
    def failed_count(self) -> int:
        """Failed turns, and the end when it failed."""
        failed = sum(turn.status == "failed" for turn in self.turns)
        return failed + (1 if self.end is not None and self.end.status == "failed" else 0)

    @property
    def passed_count(self) -> int:
        """Passed turns, and the end when it passed."""
        passed = sum(turn.status == "passed" for turn in self.turns)
        return passed + (1 if self.end is not None and self.end.status == "passed" else 0)

    @property
    def skipped_count(self) -> int:
        """Turns (and the end) that could not be checked."""
        skipped = sum(turn.status == "skipped" for turn in self.turns)
        return skipped + (1 if self.end is not None and self.end.status == "skipped" else 0)

    def failures(self) -> list[str]:
        """Every failure's reason, each with the turn it belongs to."""
        found = [f"Could not run: {self.error}"] if self.error else []
        for turn in self.turns:
            found += [f"Turn {turn.index}: {failure}" for failure in turn.failures]
        if self.end is not None:
            found += [f"End: {failure}" for failure in self.end.failures]
        return found

    def summary(self) -> str:
        """`3 passed, 1 failed` (and what was not checked)."""
        parts = [f"{self.passed_count} passed", f"{self.failed_count} failed"]
        if self.skipped_count:
            parts.append(f"{self.skipped_count} not checked")
        return ", ".join(parts)

    def report(self, *, said: Sequence[str] = ()) -> str:
        """The run as the command prints it: a heading, one line per turn and the end.

        Notes in `said` (printed once already, for every run) are left out.
        """
        verdict = "passed" if self.passed else "FAILED"
        lines = [
            f"Scenario {quoted(self.name, 100)} ({self.source}): {verdict}",
            f"  {self.mode}, persona {self.persona}"
            + (f", conversation {self.conversation_id}" if self.conversation_id else ""),
        ]
        lines += [f"  note: {note}" for note in self.notes if note not in said]
        if self.error:
            lines.append(f"  could not run: {self.error}")
        lines += [turn.line() for turn in self.turns]
        if self.end is not None:
            lines.append(self.end.line())
        lines.append(f"  {self.summary()} in {self.duration_s:.1f} s")
        return "\n".join(lines)
