"""Pages of rows onto a stored conversation for the history page: transcript, timeline, tools.

Each window is one bounded page of rows (plain string dicts, ready for UI state) with cursors to
page to older or newer rows, so a conversation of any length is shown a page at a time.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel
from sqlalchemy import func
from sqlmodel import Session, select

from cvi_app.presentation.rows import timeline_row, tool_row, transcript_row, webhook_row
from cvi_app.store import (
    TranscriptEntry,
    TranscriptLine,
    list_events_by_arrival,
    list_official_transcript,
    list_tool_calls,
    list_utterances,
    list_webhook_deliveries,
)

__all__ = [
    "TranscriptSource",
    "Window",
    "has_official_transcript",
    "timeline_window",
    "tool_call_rows",
    "transcript_window",
    "webhook_rows",
]

TranscriptSource = Literal["live", "official"]


class Window(BaseModel):
    """One page of rows, and where the pages before and after it start."""

    rows: list[dict[str, str]] = []
    first: int | None = None
    last: int | None = None
    has_older: bool = False
    has_newer: bool = False


def transcript_window(
    session: Session,
    *,
    conversation_id: str,
    source: TranscriptSource = "live",
    after: int | None = None,
    before: int | None = None,
    limit: int = 50,
) -> Window:
    """A page of the transcript: from the start, after `after`, or just before `before`.

    Args:
        session: The caller's session.
        conversation_id: The conversation.
        source: `live` (utterance events) or `official` (Tavus's transcript).
        after: Show the lines after this position.
        before: Show the lines just before this position.
        limit: Lines per page.

    Returns:
        The window; its rows have `key`, `speaker`, `role`, `text` and `at`.
    """
    cid = conversation_id
    if source == "official":
        if before is not None:
            start = max(0, before - limit)
            entries = list_official_transcript(
                session,
                conversation_id=cid,
                after_position=start - 1 if start else None,
                limit=max(1, before - start),
            )
            entries = [e for e in entries if e.position < before]
            return _window(entries, older=start > 0, newer=True)
        entries = list_official_transcript(
            session, conversation_id=cid, after_position=after, limit=limit + 1
        )
        return _window(
            entries[:limit],
            older=after is not None,
            newer=len(entries) > limit,
        )
    if before is not None:
        entries = list_utterances(session, conversation_id=cid, before_seq=before, limit=limit + 1)
        return _window(entries[-limit:], older=len(entries) > limit, newer=True)
    entries = list_utterances(session, conversation_id=cid, after_seq=after, limit=limit + 1)
    return _window(
        entries[:limit],
        older=after is not None,
        newer=len(entries) > limit,
    )


def timeline_window(
    session: Session,
    *,
    conversation_id: str,
    after: int | None = None,
    before: int | None = None,
    limit: int = 50,
) -> Window:
    """A page of every stored event (room, app and webhook-fed), in arrival order.

    Rows have `key`, `time`, `source`, `type`, `seq` and `summary`.
    """
    cid = conversation_id
    if before is not None:
        rows = list_events_by_arrival(
            session, conversation_id=cid, before_id=before, limit=limit + 1
        )
        page, older, newer = rows[-limit:], len(rows) > limit, True
    else:
        rows = list_events_by_arrival(session, conversation_id=cid, after_id=after, limit=limit + 1)
        page, older, newer = rows[:limit], after is not None, len(rows) > limit
    return Window(
        rows=[timeline_row(row) for row in page],
        first=page[0].id if page else None,
        last=page[-1].id if page else None,
        has_older=older,
        has_newer=newer,
    )


def has_official_transcript(session: Session, *, conversation_id: str) -> bool:
    """Whether Tavus's transcript of the conversation is stored."""
    query = (
        select(func.count())
        .select_from(TranscriptLine)
        .where(TranscriptLine.conversation_id == conversation_id)
    )
    return session.exec(query).one() > 0


def tool_call_rows(
    session: Session, *, conversation_id: str, limit: int = 200
) -> list[dict[str, str]]:
    """The conversation's tool calls (first `limit`): name, arguments, status, output, latency."""
    return [
        tool_row(call)
        for call in list_tool_calls(session, conversation_id=conversation_id, limit=limit)
    ]


def webhook_rows(
    session: Session, *, conversation_id: str, limit: int = 100
) -> list[dict[str, str]]:
    """The conversation's webhook deliveries (first `limit`): type, time and a summary."""
    return [
        webhook_row(delivery)
        for delivery in list_webhook_deliveries(
            session, conversation_id=conversation_id, limit=limit
        )
    ]


def _window(entries: list[TranscriptEntry], *, older: bool, newer: bool) -> Window:
    return Window(
        rows=[transcript_row(entry) for entry in entries],
        first=entries[0].position if entries else None,
        last=entries[-1].position if entries else None,
        has_older=older,
        has_newer=newer,
    )
