"""Conversations come alive and end: timers, shutdown in the room, webhooks, the verbose record.

Everything runs through the real sandbox app (REST + rooms) over HTTP and WebSocket. Timeouts
go through the API, which takes whole seconds (as Tavus's does), so the shortest is 1 s.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import pytest

from cvi_app.protocol import ShutdownWebhook, TranscriptionReadyWebhook, parse_webhook
from cvi_app.sandbox.catalog import PERCEPTION_PERSONA_ID, SUPPORT_PERSONA_ID
from tests.sandbox.helpers import (
    WebhookReceiver,
    room_client,
    webhook_receiver,
)
from tests.support.sandbox import LiveSandbox, start_sandbox
from tests.support.servers import WAIT

GREETED = "conversation.replica.stopped_speaking"


@pytest.fixture
async def live_sandbox() -> AsyncIterator[LiveSandbox]:
    async with start_sandbox(words_per_second=400.0) as sandbox:
        yield sandbox


@pytest.fixture
async def webhooks() -> AsyncIterator[WebhookReceiver]:
    async with webhook_receiver() as receiver:
        yield receiver


async def conversation(live: LiveSandbox, conversation_id: str) -> dict[str, Any]:
    response = await live.api.get(f"/v2/conversations/{conversation_id}?verbose=true")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def wait_until_ended(live: LiveSandbox, conversation_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + WAIT
    while (body := await conversation(live, conversation_id))["status"] != "ended":
        assert time.monotonic() < deadline, f"conversation {conversation_id} never ended"
        await asyncio.sleep(0.05)
    return body


async def test_max_call_duration_ends_the_call_with_its_reason(live_sandbox: LiveSandbox) -> None:
    created = await live_sandbox.create(properties={"max_call_duration": 1})
    cid = created["conversation_id"]
    async with room_client(live_sandbox.root_url, cid) as guest:
        shutdown = await guest.events_until(lambda e: e["event_type"] == "system.shutdown")
        assert shutdown[-1]["properties"] == {"shutdown_reason": "max_call_duration reached"}
        closed = await guest.recv_type("room-closed")
        assert closed["reason"] == "max_call_duration reached"
    body = await conversation(live_sandbox, cid)
    assert body["status"] == "ended" and body["shutdown_reason"] == "max_call_duration reached"


async def test_nobody_joining_ends_the_call_at_the_absent_timeout(
    live_sandbox: LiveSandbox,
) -> None:
    created = await live_sandbox.create(properties={"participant_absent_timeout": 1})
    body = await wait_until_ended(live_sandbox, created["conversation_id"])
    assert body["shutdown_reason"] == "participant_absent_timeout reached"


async def test_someone_joining_disarms_the_absent_timeout(live_sandbox: LiveSandbox) -> None:
    created = await live_sandbox.create(
        properties={"participant_absent_timeout": 1, "max_call_duration": 2}
    )
    async with room_client(live_sandbox.root_url, created["conversation_id"]) as guest:
        shutdown = await guest.events_until(lambda e: e["event_type"] == "system.shutdown")
    assert shutdown[-1]["properties"]["shutdown_reason"] == "max_call_duration reached"


async def test_last_participant_leaving_ends_the_call_at_once_with_a_zero_left_timeout(
    live_sandbox: LiveSandbox,
) -> None:
    created = await live_sandbox.create(properties={"participant_left_timeout": 0})
    cid = created["conversation_id"]
    async with room_client(live_sandbox.root_url, cid) as guest:
        await guest.events_until(lambda e: e["event_type"] == GREETED)
    body = await wait_until_ended(live_sandbox, cid)
    assert body["shutdown_reason"] == "participant_left_timeout reached"


async def test_left_timeout_waits_until_the_last_participant_is_gone(
    live_sandbox: LiveSandbox,
) -> None:
    created = await live_sandbox.create(properties={"participant_left_timeout": 1})
    cid = created["conversation_id"]
    async with room_client(live_sandbox.root_url, cid, user_name="ada") as ada:
        async with room_client(live_sandbox.root_url, cid, user_name="bob"):
            pass
        # Bob left but Ada is still here: the call goes on and still answers her.
        await ada.say("hello")
        reply = await ada.events_until(lambda e: e["event_type"] == GREETED and e["turn_idx"] == 1)
        assert reply[-1]["properties"]["interrupted"] is False
    body = await wait_until_ended(live_sandbox, cid)
    assert body["shutdown_reason"] == "participant_left_timeout reached"


async def test_ending_sends_shutdown_in_the_room_and_the_closing_webhooks(
    live_sandbox: LiveSandbox, webhooks: WebhookReceiver
) -> None:
    created = await live_sandbox.create(
        persona_id=PERCEPTION_PERSONA_ID, callback_url=webhooks.url, custom_greeting="Hi there!"
    )
    cid = created["conversation_id"]
    joined = parse_webhook(await webhooks.wait_for_type("system.replica_joined"))
    assert joined.conversation_id == cid and joined.webhook_url == webhooks.url
    async with room_client(live_sandbox.root_url, cid) as guest:
        await guest.events_until(lambda e: e["event_type"] == GREETED)
        await guest.say("hello")
        await guest.events_until(lambda e: e["event_type"] == GREETED)
        response = await live_sandbox.api.post(f"/v2/conversations/{cid}/end")
        assert response.status_code == 200
        end = await guest.events_until(lambda e: e["event_type"] == "system.shutdown")
        assert [e["event_type"] for e in end] == [
            "conversation.perception_analysis",
            "system.shutdown",
        ]
        await guest.recv_type("room-closed")

    shutdown = parse_webhook(await webhooks.wait_for_type("system.shutdown"))
    assert isinstance(shutdown, ShutdownWebhook)
    assert shutdown.reason == "end_conversation_endpoint_hit"
    transcript = parse_webhook(await webhooks.wait_for_type("application.transcription_ready"))
    assert isinstance(transcript, TranscriptionReadyWebhook)
    said = [(entry.role, entry.content) for entry in transcript.properties.transcript]
    assert said[0][0] == "system"
    assert said[1:3] == [("assistant", "Hi there!"), ("user", "hello")]
    assert said[3][0] == "assistant"
    analysis = await webhooks.wait_for_type("application.perception_analysis")
    assert analysis["properties"]["analysis"] == end[0]["properties"]["analysis"]
    order = [hook["event_type"] for hook in webhooks.received]
    assert order.index("system.shutdown") < order.index("application.transcription_ready")


async def test_verbose_conversation_holds_its_webhooks_as_tavus_documents_them(
    live_sandbox: LiveSandbox,
) -> None:
    created = await live_sandbox.create(persona_id=SUPPORT_PERSONA_ID)
    cid = created["conversation_id"]
    async with room_client(live_sandbox.root_url, cid) as guest:
        await guest.events_until(lambda e: e["event_type"] == GREETED)
        await live_sandbox.api.post(f"/v2/conversations/{cid}/end")
        await guest.events_until(lambda e: e["event_type"] == "system.shutdown")
    recorded = (await conversation(live_sandbox, cid))["events"]
    assert [event["event_type"] for event in recorded] == [
        "system.replica_joined",
        "system.shutdown",
        "application.transcription_ready",
    ]
    for event in recorded:
        # An ISO 8601 time, as the document gives it (in-room events carry Unix seconds).
        assert datetime.fromisoformat(event["timestamp"]).tzinfo is not None
    transcript = recorded[-1]["properties"]["transcript"]
    assert [line["role"] for line in transcript[:2]] == ["system", "assistant"]
    assert (await live_sandbox.api.get(f"/v2/conversations/{cid}")).json().get("events") is None


async def test_room_page_is_served_while_the_conversation_lives(
    live_sandbox: LiveSandbox,
) -> None:
    created = await live_sandbox.create()
    url = created["conversation_url"]
    assert url == f"{live_sandbox.root_url}/rooms/{created['conversation_id']}"
    page = await live_sandbox.api.get(url)
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert created["conversation_id"] in page.text and "sandbox.user_speech" in page.text
    await live_sandbox.api.post(f"/v2/conversations/{created['conversation_id']}/end")
    assert (await live_sandbox.api.get(url)).status_code == 404


async def test_meeting_token_guards_the_room_of_a_conversation_that_requires_auth(
    live_sandbox: LiveSandbox,
) -> None:
    created = await live_sandbox.create(require_auth=True)
    cid, token = created["conversation_id"], created["meeting_token"]
    async with room_client(live_sandbox.root_url, cid, expect_joined=False) as intruder:
        assert (await intruder.recv())["type"] == "error"
        assert (await intruder.closed())[0] == 4401
    async with room_client(live_sandbox.root_url, cid, token=token) as guest:
        await guest.events_until(lambda e: e["event_type"] == GREETED)
