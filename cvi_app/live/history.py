"""Rebuild a conversation's recent updates from the store (a reloaded room, a second tab)."""

from __future__ import annotations

import json
import logging
from typing import Any

from cvi_app.live.updates import EventReceived, InteractionSent, LiveUpdate
from cvi_app.protocol import ProtocolError, parse_event, validate_interaction
from cvi_app.store.db import get_engine, run_in_transaction
from cvi_app.store.events import list_events_by_arrival
from cvi_app.store.models import ConversationEvent

logger = logging.getLogger(__name__)

HISTORY_ROWS = 300


def updates_from_rows(rows: list[ConversationEvent]) -> list[LiveUpdate]:
    """The updates stored rows stand for, in stored order; unreadable rows are skipped."""
    updates: list[LiveUpdate] = []
    for row in rows:
        try:
            if row.source == "app":
                interaction = validate_interaction(_json(row.raw))
                updates.append(InteractionSent(interaction=interaction, at=row.received_at))
            else:
                updates.append(
                    EventReceived(event=parse_event(row.raw), raw=row.raw, at=row.received_at)
                )
        except (ProtocolError, ValueError) as exc:
            logger.warning("stored event %s could not be read back: %s", row.id, exc)
    return updates


async def recent_updates(conversation_id: str, *, limit: int = HISTORY_ROWS) -> list[LiveUpdate]:
    """The last `limit` stored updates of a conversation, oldest first."""
    rows = await run_in_transaction(
        get_engine(),
        lambda s: list_events_by_arrival(
            s, conversation_id=conversation_id, before_id=2**62, limit=limit
        ),
    )
    return updates_from_rows(rows)


def _json(raw: str) -> dict[str, Any]:
    value = json.loads(raw)
    if not isinstance(value, dict):
        raise ValueError("stored interaction is not a JSON object")
    return value
