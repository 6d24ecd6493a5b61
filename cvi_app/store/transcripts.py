"""Transcript queries: the live transcript (utterance events) and the official one.

The live transcript is read from stored `conversation.utterance` events, in `seq` order. The
official transcript arrives after the call in the `application.transcription_ready` webhook and
is stored as one unit, line by line (`TranscriptLine`): each delivery replaces the whole stored
transcript, so lines of two deliveries are never mixed. Both are read as `TranscriptEntry` pages, with
`position` as the cursor. Every function takes the caller's session and leaves the commit to the
caller.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, insert
from sqlmodel import Session, col, select

from cvi_app.store._sql import check_limit, one_of_cursors
from cvi_app.store.models import (
    Conversation,
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
    """Store the official transcript as one unit: it replaces whatever was stored before.

    Tavus sends the whole transcript at once, so the latest delivery is the transcript; merging
    by position would let an earlier (say forged) one leave lines behind. Concurrent saves for
    one conversation are serialised on its row, so the last to commit is stored whole.

    Args:
        session: The caller's session (the caller commits: delete and insert are one unit).
        conversation_id: The conversation (must be stored).
        lines: The transcript's entries, in Tavus's order (empty: no transcript).

    Returns:
        How many lines are stored now.
    """
    # PostgreSQL: without the row lock, a concurrent save's delete would not see this one's new
    # lines. SQLite has no row locks; its single writer serialises the saves anyway.
    session.execute(
        select(col(Conversation.conversation_id))
        .where(col(Conversation.conversation_id) == conversation_id)
        .with_for_update()
    )
    session.execute(
        delete(TranscriptLine).where(col(TranscriptLine.conversation_id) == conversation_id)
    )
    if not lines:
        return 0
    rows = [
        {**line.model_dump(), "conversation_id": conversation_id, "position": position}
        for position, line in enumerate(lines)
    ]
    session.execute(insert(TranscriptLine), rows)
    return len(rows)


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
