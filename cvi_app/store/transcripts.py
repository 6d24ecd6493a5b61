"""Transcript queries: the live transcript (utterance events) and the official one.

The live transcript is read from stored `conversation.utterance` events, in `seq` order. The
official transcript arrives after the call in the `application.transcription_ready` webhook and
is stored line by line (`TranscriptLine`). Both are read as `TranscriptEntry` pages, with
`position` as the cursor. Every function takes the caller's session and leaves the commit to the
caller.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session, col, select

from cvi_app.store._sql import check_limit, insert_ignoring_conflicts, one_of_cursors
from cvi_app.store.models import (
    ConversationEvent,
    TranscriptEntry,
    TranscriptLine,
    TranscriptLineCreate,
)

__all__ = [
    "UTTERANCE_EVENT",
    "list_official_transcript",
    "list_utterances",
    "save_official_transcript",
]

UTTERANCE_EVENT = "conversation.utterance"


def list_utterances(
    session: Session,
    *,
    conversation_id: str,
    after_seq: int | None = None,
    before_seq: int | None = None,
    limit: int = 100,
) -> list[TranscriptEntry]:
    """The live transcript: stored utterances (with a `seq`) in `seq` order, one page.

    Args:
        session: The caller's session.
        conversation_id: The conversation.
        after_seq: Only lines after this position.
        before_seq: Only the `limit` lines just before this position.
        limit: Page size (1..1000).

    Returns:
        Up to `limit` lines, ascending; `position` is the utterance's `seq`.
    """
    check_limit(limit)
    one_of_cursors(after_seq, before_seq)
    seq = col(ConversationEvent.seq)
    query = select(ConversationEvent).where(
        ConversationEvent.conversation_id == conversation_id,
        ConversationEvent.event_type == UTTERANCE_EVENT,
        seq.is_not(None),
    )
    if before_seq is not None:
        rows = list(
            reversed(
                session.exec(query.where(seq < before_seq).order_by(seq.desc()).limit(limit)).all()
            )
        )
    else:
        if after_seq is not None:
            query = query.where(seq > after_seq)
        rows = list(session.exec(query.order_by(seq).limit(limit)).all())
    return [
        TranscriptEntry(
            position=row.seq if row.seq is not None else 0,
            role=row.role or "",
            text=row.text or "",
            inference_id=row.inference_id,
            at=row.sent_at or row.received_at,
        )
        for row in rows
    ]


def save_official_transcript(
    session: Session, *, conversation_id: str, lines: Sequence[TranscriptLineCreate]
) -> int:
    """Store the official transcript; a redelivered transcript adds nothing.

    Args:
        session: The caller's session.
        conversation_id: The conversation (must be stored).
        lines: The transcript's entries, in Tavus's order.

    Returns:
        How many lines were new.
    """
    if not lines:
        return 0
    stmt = insert_ignoring_conflicts(
        session, TranscriptLine, unique=["conversation_id", "position"]
    ).returning(col(TranscriptLine.id))
    rows = [
        {**line.model_dump(), "conversation_id": conversation_id, "position": position}
        for position, line in enumerate(lines)
    ]
    return len(session.execute(stmt, rows).all())


def list_official_transcript(
    session: Session, *, conversation_id: str, after_position: int | None = None, limit: int = 100
) -> list[TranscriptEntry]:
    """The official transcript (empty until Tavus sends it), one page in order.

    Args:
        session: The caller's session.
        conversation_id: The conversation.
        after_position: Only lines after this position.
        limit: Page size (1..1000).

    Returns:
        Up to `limit` lines, ascending by position.
    """
    check_limit(limit)
    position = col(TranscriptLine.position)
    query = select(TranscriptLine).where(TranscriptLine.conversation_id == conversation_id)
    if after_position is not None:
        query = query.where(position > after_position)
    rows = session.exec(query.order_by(position).limit(limit)).all()
    return [
        TranscriptEntry(
            position=row.position,
            role=row.role,
            text=row.content or "",
            inference_id=row.inference_id,
            at=row.spoken_at,
        )
        for row in rows
    ]
