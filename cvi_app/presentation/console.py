"""How the operator console shows live conversations: one row each, and its alerts.

Rows are plain strings (what the table shows); alerts are short sentences, most urgent first.
"""

from __future__ import annotations

from datetime import datetime

from cvi_app.live.summary import LiveSummary
from cvi_app.presentation.text import page_note, short, speaker
from cvi_app.store.models import Conversation

__all__ = ["NEAR_LIMIT_S", "alerts", "console_row", "duration_words"]

NEAR_LIMIT_S = 120
"""Seconds before the call's time limit from which the console warns."""


def duration_words(seconds: float) -> str:
    """A duration as people say it: "45 s", "3 min", "1 h 02 min".

    Whole minutes past the first one, so a table of many calls changes once a minute per row
    for its durations, not every second.
    """
    whole = max(0, int(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min"
    return f"{secs} s"


def alerts(row: Conversation, summary: LiveSummary | None, *, now: datetime) -> list[str]:
    """What needs an operator's eye, most urgent first ([] when all is well)."""
    if summary is None:
        return ["No server is running this conversation right now; it may be moving to another."]
    found: list[str] = []
    if summary.link in ("reconnecting", "left"):
        found.append("The link to the room is lost; reconnecting.")
    if summary.replica_silent:
        found.append("The replica has not answered the last turn.")
    if summary.tool_errors:
        plural = "s" if summary.tool_errors > 1 else ""
        found.append(f"{summary.tool_errors} tool call{plural} failed.")
    if row.max_call_duration:
        left = row.max_call_duration - (now - row.created_at).total_seconds()
        if left <= NEAR_LIMIT_S:
            found.append(f"The time limit ends the call in {duration_words(max(0, left))}.")
    return found


def console_row(
    row: Conversation,
    summary: LiveSummary | None,
    *,
    title: str,
    persona: str,
    replica: str,
    now: datetime,
    page: str = "",
) -> dict[str, str]:
    """One live conversation as the console's table shows it.

    `page` is the public page's title when a visitor started it there.
    """
    found = alerts(row, summary, now=now)
    people = "nobody yet"
    speaking = "unknown"
    last = ""
    tools = ""
    if summary is not None:
        names = summary.people
        if names or summary.others:
            people = ", ".join(names) + (f" and {summary.others} more" if summary.others else "")
        speaking = (
            "replica speaking"
            if summary.replica_speaking
            else "user speaking"
            if summary.user_speaking
            else "quiet"
        )
        if summary.last_line:
            last = f"{speaker(summary.last_speaker)}: {summary.last_line}"
        if summary.open_tool_calls:
            tools = f"{len(summary.open_tool_calls)} waiting: " + ", ".join(summary.open_tool_calls)
    return {
        "id": row.conversation_id,
        "name": short(title, 120),
        "persona": persona,
        "replica": replica,
        "people": short(people, 120),
        "duration": duration_words((now - row.created_at).total_seconds()),
        "last_line": last,
        "speaking": speaking,
        "tools": tools or "none",
        "alerts": " ".join(found),
        "alert_count": str(len(found)),
        "started_by": row.started_by or "",
        "page_note": page_note(page, row.rating),
    }
