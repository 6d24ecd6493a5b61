"""Small text helpers every row and sentence shares: shortening, times, speaker names."""

from __future__ import annotations

from datetime import datetime

__all__ = ["SPEAKERS", "clock_time", "sentence", "short", "speaker"]

SPEAKERS = {"user": "User", "replica": "Replica", "assistant": "Replica", "system": "System"}
"""What each role is called where a person reads a transcript."""


def speaker(role: str) -> str:
    """The name a role is shown under (`assistant` and `replica` are both "Replica")."""
    return SPEAKERS.get(role, role.title())


def short(text: str, limit: int) -> str:
    """`text`, cut to at most `limit` characters with an ellipsis when it is longer."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def clock_time(moment: datetime | None) -> str:
    """A stored moment to the millisecond (`2026-12-02 07:01:02.345`); "" when unknown."""
    if moment is None:
        return ""
    return moment.strftime("%Y-%m-%d %H:%M:%S.") + f"{moment.microsecond // 1000:03d}"


def sentence(text: str) -> str:
    """`text` as one sentence: stripped, ending with a full stop unless it has an ending."""
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else text + "."
