"""Webhook deliveries: a redelivered payload is recognised and stored once."""

from __future__ import annotations

import json

from sqlalchemy import Engine

from cvi_app.store import (
    WebhookDeliveryCreate,
    list_webhook_deliveries,
    record_webhook_delivery,
    session_scope,
)

SHUTDOWN = {
    "conversation_id": "c-test",
    "event_type": "system.shutdown",
    "message_type": "system",
    "timestamp": "2026-01-01T12:00:00Z",
    "properties": {"shutdown_reason": "end_conversation_endpoint_hit"},
}


def _delivery(body: str) -> WebhookDeliveryCreate:
    return WebhookDeliveryCreate(
        conversation_id="c-test", event_type="system.shutdown", message_type="system", payload=body
    )


def test_a_redelivered_webhook_is_stored_once(engine: Engine) -> None:
    with session_scope(engine) as session:
        assert record_webhook_delivery(session, delivery=_delivery(json.dumps(SHUTDOWN)))
    with session_scope(engine) as session:
        # Same JSON, different key order and spacing: still the same delivery.
        again = json.dumps(dict(reversed(SHUTDOWN.items())), indent=1)
        assert not record_webhook_delivery(session, delivery=_delivery(again))
        assert len(list_webhook_deliveries(session, conversation_id="c-test")) == 1


def test_a_different_webhook_is_stored(engine: Engine) -> None:
    other = {**SHUTDOWN, "timestamp": "2026-01-01T12:00:05Z"}
    with session_scope(engine) as session:
        assert record_webhook_delivery(session, delivery=_delivery(json.dumps(SHUTDOWN)))
        assert record_webhook_delivery(session, delivery=_delivery(json.dumps(other)))
        deliveries = list_webhook_deliveries(session, conversation_id="c-test")
    assert [json.loads(d.payload)["timestamp"] for d in deliveries] == [
        "2026-01-01T12:00:00Z",
        "2026-01-01T12:00:05Z",
    ]
