"""Event queries: store events once, read them back in order, a page at a time.

Every function takes the caller's session and leaves the commit to the caller.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, text
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from cvi_app.store._sql import check_limit, insert_ignoring_conflicts, one_of_cursors, table_of
from cvi_app.store.models import ConversationEvent, NewEvent

__all__ = [
    "count_events",
    "insert_events",
    "last_update_id",
    "list_events",
    "list_events_by_arrival",
    "list_events_before_update",
]


def insert_events(session: Session, *, events: Sequence[NewEvent]) -> int:
    """Store events in one statement, skipping any already stored (same `dedupe_key`).

    Args:
        session: The caller's session.
        events: The events; duplicates among them, or of stored events, are skipped.

    Returns:
        How many events were new.
    """
    if not events:
        return 0
    rows = [event.model_dump() for event in events]
    if session.get_bind().dialect.name == "postgresql":
        return len(session.execute(_UNNEST_INSERT, _as_columns(rows)).all())
    stmt = insert_ignoring_conflicts(
        session, ConversationEvent, unique=["conversation_id", "dedupe_key"]
    ).returning(table_of(ConversationEvent).c.id)
    return len(session.execute(stmt, rows).all())


# PostgreSQL: one array per column, so the statement text stays the same whatever the batch size.
# A multi-row VALUES list made psycopg parse a new, huge query for every batch (the benchmark's
# profile: over half the ingest time).
_COLUMN_TYPES = {
    "conversation_id": "text",
    "seq": "bigint",
    "event_type": "text",
    "turn_idx": "integer",
    "inference_id": "text",
    "role": "text",
    "text": "text",
    "source": "text",
    "sent_at": "timestamptz",
    "received_at": "timestamptz",
    "raw": "text",
    "dedupe_key": "text",
    "update_id": "bigint",
}
_UNNEST_INSERT = text(
    f"INSERT INTO conversation_event ({', '.join(_COLUMN_TYPES)}) "
    "SELECT * FROM unnest("
    + ", ".join(f"CAST(:{name} AS {kind}[])" for name, kind in _COLUMN_TYPES.items())
    + ") ON CONFLICT (conversation_id, dedupe_key) DO NOTHING RETURNING id"
)


def _as_columns(rows: list[dict[str, object]]) -> dict[str, list[object]]:
    return {name: [row[name] for row in rows] for name in _COLUMN_TYPES}


def list_events(
    session: Session,
    *,
    conversation_id: str,
    after_seq: int | None = None,
    before_seq: int | None = None,
    limit: int = 100,
) -> list[ConversationEvent]:
    """Events that carry a `seq` (the replica's ordered stream), in `seq` order.

    Page forwards with `after_seq` (the last `seq` of the previous page), or backwards with
    `before_seq` (the first `seq` of the page shown): either way the page comes back in ascending
    `seq` order. Events without a `seq` (sent by the app, or from webhooks) are in
    `list_events_by_arrival`.

    Args:
        session: The caller's session.
        conversation_id: The conversation.
        after_seq: Only events after this `seq`.
        before_seq: Only the `limit` events just before this `seq`.
        limit: Page size (1..1000).

    Returns:
        Up to `limit` events, ascending by `seq`.
    """
    check_limit(limit)
    one_of_cursors(after_seq, before_seq)
    seq = col(ConversationEvent.seq)
    query = select(ConversationEvent).where(
        ConversationEvent.conversation_id == conversation_id, seq.is_not(None)
    )
    if before_seq is not None:
        page = session.exec(query.where(seq < before_seq).order_by(seq.desc()).limit(limit)).all()
        return list(reversed(page))
    if after_seq is not None:
        query = query.where(seq > after_seq)
    return list(session.exec(query.order_by(seq).limit(limit)).all())


def list_events_by_arrival(
    session: Session,
    *,
    conversation_id: str,
    after_id: int | None = None,
    before_id: int | None = None,
    limit: int = 100,
) -> list[ConversationEvent]:
    """Every event of a conversation (room, webhook and app), in the order they were stored.

    Paged like `list_events`, with the row `id` as the cursor.

    Args:
        session: The caller's session.
        conversation_id: The conversation.
        after_id: Only events stored after this one.
        before_id: Only the `limit` events stored just before this one.
        limit: Page size (1..1000).

    Returns:
        Up to `limit` events, ascending by `id`.
    """
    check_limit(limit)
    one_of_cursors(after_id, before_id)
    row_id = col(ConversationEvent.id)
    query = select(ConversationEvent).where(ConversationEvent.conversation_id == conversation_id)
    if before_id is not None:
        page = session.exec(
            query.where(row_id < before_id).order_by(row_id.desc()).limit(limit)
        ).all()
        return list(reversed(page))
    if after_id is not None:
        query = query.where(row_id > after_id)
    return list(session.exec(query.order_by(row_id).limit(limit)).all())


def count_events(session: Session, *, conversation_id: str) -> int:
    """How many events are stored for a conversation."""
    query = (
        select(func.count())
        .select_from(ConversationEvent)
        .where(ConversationEvent.conversation_id == conversation_id)
    )
    return session.exec(query).one()


def list_events_before_update(
    session: Session, *, conversation_id: str, before_update_id: int | None, limit: int = 100
) -> list[ConversationEvent]:
    """The last `limit` stored events older than a live session's update `before_update_id`.

    Rows stored without an update id (before update ids existed) count as older. With
    `before_update_id` None, the last `limit` events whatever their id.

    Returns:
        Up to `limit` events, ascending by arrival (`id`).
    """
    check_limit(limit)
    update_id = col(ConversationEvent.update_id)
    query = select(ConversationEvent).where(ConversationEvent.conversation_id == conversation_id)
    if before_update_id is not None:
        query = query.where(update_id.is_(None) | (update_id < before_update_id))
    page = session.exec(query.order_by(col(ConversationEvent.id).desc()).limit(limit)).all()
    return list(reversed(page))


def last_update_id(session: Session, *, conversation_id: str) -> int:
    """The highest update id stored for a conversation (0 when none)."""
    query = select(func.max(ConversationEvent.update_id)).where(
        ConversationEvent.conversation_id == conversation_id
    )
    return session.exec(query).one() or 0


def list_event_moments(
    session: Session,
    *,
    conversation_id: str,
    event_types: Sequence[str],
    after_id: int | None = None,
    limit: int = 1000,
) -> list[tuple[int, str, str, str | None, datetime]]:
    """The id, type, source, role and arrival time of a conversation's events of these types.

    For analytics: no payloads are read. Paged by row id (ascending), like `list_events_by_arrival`.
    """
    check_limit(limit)
    query = sa_select(
        col(ConversationEvent.id),
        col(ConversationEvent.event_type),
        col(ConversationEvent.source),
        col(ConversationEvent.role),
        col(ConversationEvent.received_at),
    ).where(
        col(ConversationEvent.conversation_id) == conversation_id,
        col(ConversationEvent.event_type).in_(list(event_types)),
    )
    if after_id is not None:
        query = query.where(col(ConversationEvent.id) > after_id)
    rows = session.execute(query.order_by(col(ConversationEvent.id)).limit(limit)).all()
    return [(int(r[0] or 0), r[1], r[2], r[3], r[4]) for r in rows]
