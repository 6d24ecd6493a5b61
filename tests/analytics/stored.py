"""Conversations stored with events at known moments, for the analytics' store tests."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from cvi_app.store import insert_events, session_scope
from cvi_app.store.conversations import create_conversation, update_conversation_status
from cvi_app.store.models import (
    ConversationCreate,
    NewEvent,
    ToolCallCreate,
    WebhookDeliveryCreate,
)
from cvi_app.store.tool_calls import finish_tool_call, record_tool_call
from cvi_app.store.webhooks import record_webhook_delivery

DAY = datetime(2026, 11, 20, 9, 0, 0, tzinfo=UTC)


def store_conversation(
    engine: Engine,
    cid: str,
    *,
    owner: str,
    start: datetime = DAY,
    persona_id: str = "p-support",
    latency_s: float = 0.5,
    ended_after_s: float | None = 20.0,
    tool_ok: bool | None = None,
) -> None:
    """A conversation that starts at `start`: the replica joins (webhook) at 2 s, greets 3-5 s,
    the user speaks 6-8 s and the replica answers `latency_s` later for 2 s; it ends at
    `ended_after_s` (None: still live). With `tool_ok`, one tool call at 9 s (120 ms)."""

    def at(seconds: float) -> datetime:
        return start + timedelta(seconds=seconds)

    def event(kind: str, seconds: float, seq: int, **props: Any) -> NewEvent:
        raw = {"message_type": "conversation", "event_type": kind, "conversation_id": cid}
        if props:
            raw["properties"] = props
        return NewEvent(
            conversation_id=cid,
            event_type=kind,
            source="room",
            raw=json.dumps(raw),
            seq=seq,
            role=props.get("role"),
            received_at=at(seconds),
        )

    answer = 8.0 + latency_s
    with session_scope(engine) as session:
        create_conversation(
            session,
            data=ConversationCreate(
                conversation_id=cid, mode="sandbox", owner_session=owner, persona_id=persona_id
            ),
            created_at=start,
        )
        insert_events(
            session,
            events=[
                event("conversation.replica.started_speaking", 3.0, 1),
                event("conversation.utterance", 3.0, 2, role="replica", speech="Hi."),
                event("conversation.replica.stopped_speaking", 5.0, 3),
                event("conversation.user.started_speaking", 6.0, 4),
                event("conversation.user.stopped_speaking", 8.0, 5),
                event("conversation.utterance", 8.0, 6, role="user", speech="Help."),
                event("conversation.replica.started_speaking", answer, 7),
                event("conversation.replica.stopped_speaking", answer + 2.0, 8),
            ],
        )
        record_webhook_delivery(
            session,
            delivery=WebhookDeliveryCreate(
                conversation_id=cid,
                event_type="system.replica_joined",
                message_type="system",
                payload=json.dumps({"event_type": "system.replica_joined"}),
                received_at=at(2.0),
            ),
        )
        if tool_ok is not None:
            record_tool_call(
                session,
                call=ToolCallCreate(
                    conversation_id=cid,
                    tool_call_id=f"{cid}-t",
                    name="lookup_order",
                    started_at=at(9),
                ),
            )
            finish_tool_call(
                session,
                conversation_id=cid,
                tool_call_id=f"{cid}-t",
                result="{}",
                status="success" if tool_ok else "error",
                finished_at=at(9.12),
            )
        if ended_after_s is not None:
            update_conversation_status(
                session,
                conversation_id=cid,
                status="ended",
                shutdown_reason="participant_left_timeout",
                at=at(ended_after_s),
            )
