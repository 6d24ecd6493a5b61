"""Windows onto a stored conversation for the history page: transcript, timeline, tool calls.

Each window is one bounded page of rows (plain string dicts, ready for UI state) with cursors to
page to older or newer rows, so a conversation of any length is shown a page at a time.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel
from sqlalchemy import func
from sqlmodel import Session, select

from cvi_app.exports.records import SPEAKERS
from cvi_app.store import (
    ConversationEvent,
    ToolCall,
    TranscriptEntry,
    TranscriptLine,
    WebhookDelivery,
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
SUMMARY_CHARS = 160


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
            return _window(entries, older=start > 0, newer=True, row=_line_row)
        entries = list_official_transcript(
            session, conversation_id=cid, after_position=after, limit=limit + 1
        )
        return _window(
            entries[:limit], older=after is not None, newer=len(entries) > limit, row=_line_row
        )
    if before is not None:
        entries = list_utterances(session, conversation_id=cid, before_seq=before, limit=limit + 1)
        return _window(entries[-limit:], older=len(entries) > limit, newer=True, row=_line_row)
    entries = list_utterances(session, conversation_id=cid, after_seq=after, limit=limit + 1)
    return _window(
        entries[:limit], older=after is not None, newer=len(entries) > limit, row=_line_row
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
        rows=[_event_row(row) for row in page],
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
        _tool_row(call)
        for call in list_tool_calls(session, conversation_id=conversation_id, limit=limit)
    ]


def webhook_rows(
    session: Session, *, conversation_id: str, limit: int = 100
) -> list[dict[str, str]]:
    """The conversation's webhook deliveries (first `limit`): type, time and a summary."""
    return [
        _webhook_row(delivery)
        for delivery in list_webhook_deliveries(
            session, conversation_id=conversation_id, limit=limit
        )
    ]


# ---- rows ------------------------------------------------------------------------------------


def _window(entries: list[TranscriptEntry], *, older: bool, newer: bool, row: Any) -> Window:
    return Window(
        rows=[row(entry) for entry in entries],
        first=entries[0].position if entries else None,
        last=entries[-1].position if entries else None,
        has_older=older,
        has_newer=newer,
    )


def _line_row(entry: TranscriptEntry) -> dict[str, str]:
    role = "replica" if entry.role == "assistant" else entry.role
    return {
        "key": str(entry.position),
        "speaker": SPEAKERS.get(entry.role, entry.role.title()),
        "role": role,
        "text": entry.text,
        "at": _time(entry.at),
    }


def _event_row(row: ConversationEvent) -> dict[str, str]:
    if row.text:
        summary = f"{row.role}: {row.text}" if row.role else row.text
    else:
        summary = _properties_summary(row.raw)
    return {
        "key": str(row.id),
        "time": _time(row.received_at),
        "source": row.source,
        "type": row.event_type,
        "seq": "" if row.seq is None else str(row.seq),
        "summary": _short(summary),
    }


def _tool_row(call: ToolCall) -> dict[str, str]:
    return {
        "id": call.tool_call_id,
        "name": call.name,
        "arguments": call.arguments,
        "status": call.status,
        "output": _short(call.result or "", 300),
        "latency": f"{call.latency_ms:.0f} ms" if call.latency_ms is not None else "",
    }


def _webhook_row(delivery: WebhookDelivery) -> dict[str, str]:
    return {
        "key": str(delivery.id),
        "type": delivery.event_type,
        "time": _time(delivery.received_at),
        "summary": _short(_properties_summary(delivery.payload)),
    }


def _properties_summary(raw: str) -> str:
    try:
        message = json.loads(raw)
    except ValueError:
        return ""
    properties = message.get("properties") if isinstance(message, dict) else None
    if not properties:
        return ""
    if isinstance(properties, dict) and isinstance(properties.get("transcript"), list):
        return f"transcript of {len(properties['transcript'])} lines"
    return json.dumps(properties, ensure_ascii=False, separators=(", ", ": "))


def _short(text: str, limit: int = SUMMARY_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _time(moment: datetime | None) -> str:
    if moment is None:
        return ""
    return moment.strftime("%Y-%m-%d %H:%M:%S.") + f"{moment.microsecond // 1000:03d}"
