"""Helpers shared by the store tests."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Engine

from cvi_app.store import ConversationCreate, NewEvent, create_conversation, session_scope


def add_conversation(engine: Engine, conversation_id: str = "c-test", **fields: Any) -> None:
    """Store a conversation, so events and tool calls for it can be stored."""
    data = ConversationCreate.model_validate(
        {"conversation_id": conversation_id, "mode": "sandbox", **fields}
    )
    with session_scope(engine) as session:
        create_conversation(session, data=data)


def utterance(seq: int, *, conversation_id: str = "c-test", role: str = "user") -> NewEvent:
    """A room utterance event with this `seq`, as the live session would store it."""
    speech = f"line {seq}"
    raw = {
        "message_type": "conversation",
        "event_type": "conversation.utterance",
        "conversation_id": conversation_id,
        "seq": seq,
        "properties": {"role": role, "speech": speech},
    }
    return NewEvent(
        conversation_id=conversation_id,
        event_type="conversation.utterance",
        source="room",
        raw=json.dumps(raw),
        seq=seq,
        role=role,
        text=speech,
    )
