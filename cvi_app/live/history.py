"""Rebuild a conversation's recent updates (a reloaded room, a second tab, a resync) without gaps.

`restore` subscribes to the conversation's updates and, in the same step, takes the live
session's in-memory replay of its latest updates; only what is older than that replay is read
from the store (after the batched writer has flushed it). Every update carries its session's
`update_id`, so the caller applies what the subscription brings only past the last id it
restored: each update is shown once, and none falls between the store and the live stream.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from cvi_app.live.bus import LiveBus, LiveSubscription
from cvi_app.live.cluster.remote import RemoteSession
from cvi_app.live.redis_bus import RedisBus
from cvi_app.live.session import ConversationSession
from cvi_app.live.updates import EventReceived, InteractionSent, LiveUpdate
from cvi_app.protocol import ProtocolError, parse_event, validate_interaction
from cvi_app.store.db import get_engine, run_in_transaction
from cvi_app.store.events import list_events_before_update
from cvi_app.store.models import ConversationEvent

logger = logging.getLogger(__name__)

HISTORY_ROWS = 300


def updates_from_rows(rows: list[ConversationEvent]) -> list[LiveUpdate]:
    """The updates stored rows stand for, in stored order; unreadable rows are skipped."""
    updates: list[LiveUpdate] = []
    for row in rows:
        update_id = row.update_id or 0
        try:
            if row.source == "app":
                interaction = validate_interaction(_json(row.raw))
                updates.append(
                    InteractionSent(
                        interaction=interaction, at=row.received_at, update_id=update_id
                    )
                )
            else:
                updates.append(
                    EventReceived(
                        event=parse_event(row.raw),
                        raw=row.raw,
                        at=row.received_at,
                        update_id=update_id,
                    )
                )
        except (ProtocolError, ValueError) as exc:
            logger.warning("stored event %s could not be read back: %s", row.id, exc)
    return updates


async def stored_updates(
    conversation_id: str, *, before_update_id: int | None = None, limit: int = HISTORY_ROWS
) -> list[LiveUpdate]:
    """The last `limit` stored updates of a conversation older than `before_update_id`."""
    rows = await run_in_transaction(
        get_engine(),
        lambda s: list_events_before_update(
            s, conversation_id=conversation_id, before_update_id=before_update_id, limit=limit
        ),
    )
    return updates_from_rows(rows)


async def recent_updates(conversation_id: str, *, limit: int = HISTORY_ROWS) -> list[LiveUpdate]:
    """The last `limit` stored updates of a conversation, oldest first."""
    return await stored_updates(conversation_id, limit=limit)


@dataclass
class Restored:
    """What a tab shows first, and where it goes on from.

    Apply `updates`, then every update from `subscription` that `is_new` admits.
    """

    subscription: LiveSubscription[LiveUpdate]
    updates: list[LiveUpdate]
    last_update_id: int

    def is_new(self, update: LiveUpdate) -> bool:
        """Whether a live update comes after what was restored (and remember it if so)."""
        if not update.update_id:
            return True
        if update.update_id <= self.last_update_id:
            return False
        self.last_update_id = update.update_id
        return True


async def restore(
    bus: LiveBus[LiveUpdate],
    session: ConversationSession | RemoteSession | None,
    conversation_id: str,
    *,
    limit: int = HISTORY_ROWS,
) -> Restored:
    """Subscribe to a conversation and rebuild its last `limit` updates, gap-free.

    Args:
        bus: Where the conversation's updates are published.
        session: Its live session in this process, or in another one (cluster), or None.
        conversation_id: The conversation.
        limit: Most updates restored.

    Returns:
        The subscription (the caller closes it) and the restored updates, in order, each once;
        for a live session they end with `session.now()` (who speaks, who is there).

    A session in this process gives its in-memory replay; otherwise, in the cluster, the
    conversation's stream gives the latest updates and the subscription goes on right after
    them (whichever process publishes).
    """
    if isinstance(bus, RedisBus) and not isinstance(session, ConversationSession):
        return await _restore_from_stream(bus, session, conversation_id, limit=limit)
    if not isinstance(session, ConversationSession):
        session = None  # (a remote session needs the cluster's bus, handled above)
    subscription = bus.subscribe(conversation_id)
    # No await between the subscription and the snapshot: together they miss nothing.
    snapshot = session.replay_snapshot()[-limit:] if session is not None else []
    # Who speaks and who is there, as of the snapshot: those changes may be older than it.
    now = session.now() if session is not None else []
    try:
        older: list[LiveUpdate] = []
        room = limit - len(snapshot)
        if room > 0:
            first = snapshot[0].update_id if snapshot else None
            if session is not None:
                await session.recorder.flush()  # what is older than the replay is in the store
            older = await stored_updates(conversation_id, before_update_id=first, limit=room)
        updates = _once([*older, *snapshot, *now])
    except BaseException:
        subscription.close()
        raise
    last = max((u.update_id for u in updates), default=0)
    return Restored(subscription=subscription, updates=updates, last_update_id=last)


async def _restore_from_stream(
    bus: RedisBus[LiveUpdate],
    session: RemoteSession | None,
    conversation_id: str,
    *,
    limit: int,
) -> Restored:
    tail, end = await bus.recent(conversation_id, limit)
    subscription = bus.subscribe(conversation_id, after=end)
    try:
        older: list[LiveUpdate] = []
        room = limit - len(tail)
        if room > 0:
            first = next((u.update_id for u in tail if u.update_id), None)
            older = await stored_updates(conversation_id, before_update_id=first, limit=room)
        now = session.now() if session is not None else []
        updates = _once([*older, *tail, *now])
    except BaseException:
        subscription.close()
        raise
    last = max((u.update_id for u in updates), default=0)
    return Restored(subscription=subscription, updates=updates, last_update_id=last)


def _once(updates: list[LiveUpdate]) -> list[LiveUpdate]:
    """Drop repeats of a numbered update (a row the store and the replay both hold)."""
    seen: set[int] = set()
    kept: list[LiveUpdate] = []
    for update in updates:
        if update.update_id:
            if update.update_id in seen:
                continue
            seen.add(update.update_id)
        kept.append(update)
    return kept


def _json(raw: str) -> dict[str, Any]:
    value = json.loads(raw)
    if not isinstance(value, dict):
        raise ValueError("stored interaction is not a JSON object")
    return value
