"""Webhook delivery to a real local HTTP receiver: retries, giving up, order, never blocking."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from cvi_app.protocol import ShutdownWebhook, parse_webhook
from cvi_app.protocol.events import ShutdownProperties
from cvi_app.sandbox.webhooks import WebhookSender
from tests.sandbox.helpers import WebhookReceiver, webhook_receiver
from tests.support.servers import free_port


@pytest.fixture
async def webhooks() -> AsyncIterator[WebhookReceiver]:
    async with webhook_receiver() as receiver:
        yield receiver


def shutdown(reason: str, conversation_id: str = "c0a1b2c3d4e") -> ShutdownWebhook:
    return ShutdownWebhook(
        conversation_id=conversation_id,
        timestamp=datetime.now(UTC),
        properties=ShutdownProperties(shutdown_reason=reason),
    )


async def test_webhook_is_posted_as_the_protocol_model(webhooks: WebhookReceiver) -> None:
    sender = WebhookSender()
    task = sender.send(webhooks.url, shutdown("max_call_duration reached"))
    assert task is not None and await task is True
    (body,) = webhooks.received
    parsed = parse_webhook(body)
    assert isinstance(parsed, ShutdownWebhook)
    assert parsed.reason == "max_call_duration reached"
    assert body["message_type"] == "system" and "T" in body["timestamp"]
    await sender.aclose()


async def test_server_errors_are_retried_until_the_webhook_gets_through(
    webhooks: WebhookReceiver,
) -> None:
    webhooks.fail_next(2, status=503)
    sender = WebhookSender(retries=2, backoff=0.01)
    task = sender.send(webhooks.url, shutdown("x"))
    assert task is not None and await task is True
    assert webhooks.attempts == 3 and len(webhooks.received) == 1
    await sender.aclose()


async def test_delivery_gives_up_after_the_retries(webhooks: WebhookReceiver) -> None:
    webhooks.fail_next(5, status=500)
    sender = WebhookSender(retries=2, backoff=0.01)
    task = sender.send(webhooks.url, shutdown("x"))
    assert task is not None and await task is False
    assert webhooks.attempts == 3 and webhooks.received == []
    await sender.aclose()


async def test_client_errors_are_not_retried(webhooks: WebhookReceiver) -> None:
    webhooks.fail_next(1, status=404)
    sender = WebhookSender(retries=2, backoff=0.01)
    task = sender.send(webhooks.url, shutdown("x"))
    assert task is not None and await task is False
    assert webhooks.attempts == 1
    await sender.aclose()


async def test_unreachable_callback_is_logged_not_raised() -> None:
    sender = WebhookSender(retries=1, backoff=0.01, timeout=2.0)
    task = sender.send(f"http://127.0.0.1:{free_port()}/hook", shutdown("x"))
    assert task is not None and await task is False
    await sender.aclose()


async def test_webhooks_of_one_conversation_arrive_in_order_despite_retries(
    webhooks: WebhookReceiver,
) -> None:
    webhooks.fail_next(1, status=500)
    sender = WebhookSender(retries=2, backoff=0.05)
    for number in range(5):
        sender.send(webhooks.url, shutdown(f"reason {number}"))
    await sender.drain()
    reasons = [hook["properties"]["shutdown_reason"] for hook in webhooks.received]
    assert reasons == [f"reason {number}" for number in range(5)]
    await sender.aclose()


async def test_closed_sender_refuses_new_webhooks(webhooks: WebhookReceiver) -> None:
    sender = WebhookSender()
    await sender.aclose()
    await sender.aclose()
    assert sender.send(webhooks.url, shutdown("x")) is None
