"""The scenario runs page: the last runs of `python -m cvi_app.scenarios run`, from their file."""

from __future__ import annotations

import asyncio
import dataclasses
import logging

import reflex as rx

from cvi_app.accounts.sessions import resolve_caller
from cvi_app.scenarios.results import ScenarioResult
from cvi_app.scenarios.store import KEEP, read_results
from cvi_app.state.app_state import AppState

__all__ = ["MAX_SHOWN_FAILURES", "RunRow", "ScenariosState", "run_row"]

logger = logging.getLogger(__name__)

MAX_SHOWN_FAILURES = 10
"""Failures listed per run (the rest are counted)."""
_MAX_REASON = 400


@dataclasses.dataclass
class RunRow:
    """One run as the table shows it."""

    key: str = ""
    scenario: str = ""
    source: str = ""
    when: str = ""
    mode: str = ""
    verdict: str = ""
    turns_passed: str = ""
    turns_failed: str = ""
    failures: list[str] = dataclasses.field(default_factory=list)


def _cut(text: str) -> str:
    return text if len(text) <= _MAX_REASON else text[: _MAX_REASON - 1] + "…"


def run_row(result: ScenarioResult) -> RunRow:
    """A run, bounded for the page: its figures and at most `MAX_SHOWN_FAILURES` reasons."""
    failures = result.failures()
    shown = [_cut(reason) for reason in failures[:MAX_SHOWN_FAILURES]]
    if len(failures) > MAX_SHOWN_FAILURES:
        shown.append(f"and {len(failures) - MAX_SHOWN_FAILURES} more")
    turns_passed = sum(turn.status == "passed" for turn in result.turns)
    turns_failed = sum(turn.status == "failed" for turn in result.turns)
    skipped = sum(turn.status == "skipped" for turn in result.turns)
    return RunRow(
        key=result.run_id,
        scenario=result.name[:200],
        source=result.source[:300],
        when=result.started_at.strftime("%Y-%m-%d %H:%M:%S UTC"),
        mode=result.mode,
        verdict="passed" if result.passed else "failed",
        turns_passed=f"{turns_passed} of {len(result.turns)}",
        turns_failed=str(turns_failed) + (f" ({skipped} not checked)" if skipped else ""),
        failures=shown,
    )


class ScenariosState(rx.State):
    """The last scenario runs (at most `KEEP`), newest first."""

    runs: list[RunRow] = []
    loading: bool = True
    problem: str = ""

    @rx.event(background=True)
    async def load(self):
        """Read the kept runs (off the event loop), for a caller who may read."""
        async with self:
            credentials = (await self.get_state(AppState)).credentials()
            self.loading = True
        caller = await resolve_caller(credentials)
        if not caller.may("read"):
            async with self:
                self.runs, self.problem, self.loading = [], "Sign in to see scenario runs.", False
            return
        try:
            results = await asyncio.to_thread(read_results, limit=KEEP)
        except Exception:
            logger.exception("reading the scenario runs failed")
            async with self:
                self.problem, self.loading = (
                    "The scenario runs could not be read. Try again.",
                    False,
                )
            return
        async with self:
            self.runs = [run_row(result) for result in results]
            self.problem, self.loading = "", False
