"""A `system.shutdown` ends a conversation only when the API confirms it; the official transcript
is replaced whole by each delivery. Real HTTP to the endpoint, the real sandbox as the API."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine

from cvi_app.protocol import ShutdownWebhook, TranscriptionReadyWebhook, Webhook
from cvi_app.protocol.events import ShutdownProperties
from cvi_app.protocol.webhooks import TranscriptEntry, TranscriptionReadyProperties
from cvi_app.store import (
    Conversation,
    get_conversation,
    list_official_transcript,
    list_webhook_deliveries,
    session_scope,
)
from tests.store.helpers import add_conversation
from tests.support.servers import free_port, serve_asgi
from tests.webhooks.conftest import RunningSandbox, api_verifier, webhook_app, webhook_path

FORGED_REASON = "an attacker says it ended"


def _post(client: httpx.Client, webhook: Webhook) -> httpx.Response:
    response = client.post(webhook_path(), json=webhook.to_message())
    assert response.status_code == 200, response.text
    return response


def _shutdown(cid: str, reason: str = FORGED_REASON, at: datetime | None = None) -> ShutdownWebhook:
    return ShutdownWebhook(
        conversation_id=cid,
        timestamp=at or datetime.now(UTC),
        properties=ShutdownProperties(shutdown_reason=reason),
    )


def _stored(engine: Engine, cid: str) -> Conversation:
    with session_scope(engine) as s:
        conversation = get_conversation(s, conversation_id=cid)
    assert conversation is not None
    return conversation


def _official(engine: Engine, cid: str) -> list[tuple[str, str]]:
    with session_scope(engine) as s:
        lines = list_official_transcript(s, conversation_id=cid, limit=1000)
    return [(line.role, line.text) for line in lines]


def _eventually(condition: Callable[[], object], what: str, within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


class Endpoint:
    """The endpoint over the test's store, asking the sandbox; records confirmed ends."""

    def __init__(self, client: httpx.Client, url: str) -> None:
        self.client = client
        self.url = url
        self.asked: list[str] = []
        self.closed: list[tuple[str, str | None]] = []

    @property
    def callback_url(self) -> str:
        return self.url + webhook_path()


@pytest.fixture
def endpoint(engine: Engine, sandbox: RunningSandbox) -> Iterator[Endpoint]:
    holder: list[Endpoint] = []

    async def on_verified_end(cid: str, reason: str | None) -> None:
        holder[0].closed.append((cid, reason))

    asked: list[str] = []
    app = webhook_app(
        lambda: engine,
        verify_end=api_verifier(sandbox.api_base, asked=asked),
        on_verified_end=on_verified_end,
    )
    with serve_asgi(app) as url, httpx.Client(base_url=url, timeout=30) as client:
        holder.append(Endpoint(client, url))
        holder[0].asked = asked
        yield holder[0]


def test_a_forged_shutdown_of_a_live_conversation_is_kept_but_ends_nothing(
    endpoint: Endpoint, engine: Engine, sandbox: RunningSandbox, caplog: pytest.LogCaptureFixture
) -> None:
    cid = sandbox.create()["conversation_id"]
    add_conversation(engine, cid)
    with caplog.at_level(logging.WARNING, logger="cvi_app.webhooks"):
        assert _post(endpoint.client, _shutdown(cid)).json() == {"status": "stored"}
    stored = _stored(engine, cid)
    assert (stored.status, stored.ended_at, stored.shutdown_reason) == ("active", None, None)
    with session_scope(engine) as s:
        assert [d.event_type for d in list_webhook_deliveries(s, conversation_id=cid)] == [
            "system.shutdown"
        ]
    assert endpoint.closed == []
    assert "still active" in caplog.text
    sandbox.end(cid)


def test_a_shutdown_the_api_confirms_ends_the_conversation_with_the_apis_reason(
    endpoint: Endpoint, engine: Engine, sandbox: RunningSandbox
) -> None:
    cid = sandbox.create()["conversation_id"]
    add_conversation(engine, cid)
    sandbox.end(cid)
    api_reason = sandbox.get(cid)["shutdown_reason"]
    assert api_reason and api_reason != FORGED_REASON
    _post(endpoint.client, _shutdown(cid))
    stored = _stored(engine, cid)
    assert stored.status == "ended"
    assert stored.ended_at is not None
    assert stored.shutdown_reason == api_reason
    assert endpoint.closed == [(cid, api_reason)]


def test_a_shutdown_for_a_conversation_the_api_does_not_know_ends_it_with_the_webhooks_reason(
    endpoint: Endpoint, engine: Engine
) -> None:
    # Stored by the app, unknown to the API (the in-app sandbox restarted, say): live nowhere.
    add_conversation(engine, "c-gone")
    _post(endpoint.client, _shutdown("c-gone", "max_call_duration reached"))
    stored = _stored(engine, "c-gone")
    assert (stored.status, stored.shutdown_reason) == ("ended", "max_call_duration reached")
    assert endpoint.closed == [("c-gone", "max_call_duration reached")]


def test_a_shutdown_time_outside_the_conversations_life_is_not_believed(
    endpoint: Endpoint, engine: Engine
) -> None:
    add_conversation(engine, "c-gone")
    before = datetime.now(UTC)
    _post(endpoint.client, _shutdown("c-gone", at=datetime(2001, 1, 1, tzinfo=UTC)))
    after = datetime.now(UTC)
    ended_at = _stored(engine, "c-gone").ended_at
    assert ended_at is not None and before <= ended_at <= after


def test_a_redelivered_shutdown_does_not_ask_the_api_again(
    endpoint: Endpoint, engine: Engine
) -> None:
    add_conversation(engine, "c-gone")
    shutdown = _shutdown("c-gone")
    _post(endpoint.client, shutdown)
    assert _post(endpoint.client, shutdown).json() == {"status": "duplicate"}
    assert endpoint.asked == ["c-gone"]


def test_when_the_api_cannot_be_asked_the_shutdown_is_kept_and_the_conversation_stays_active(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    add_conversation(engine, "c-live")
    nowhere = f"http://127.0.0.1:{free_port()}/v2"
    app = webhook_app(lambda: engine, verify_end=api_verifier(nowhere))
    with (
        caplog.at_level(logging.WARNING, logger="cvi_app.webhooks"),
        serve_asgi(app) as url,
        httpx.Client(base_url=url, timeout=30) as client,
    ):
        assert _post(client, _shutdown("c-live")).json() == {"status": "stored"}
    stored = _stored(engine, "c-live")
    assert (stored.status, stored.ended_at, stored.shutdown_reason) == ("active", None, None)
    with session_scope(engine) as s:
        assert len(list_webhook_deliveries(s, conversation_id="c-live")) == 1
    assert "could not be asked" in caplog.text


def _real_transcript(sandbox: RunningSandbox, cid: str) -> list[tuple[str, str]]:
    events: list[dict[str, Any]] = sandbox.get(cid, verbose=True).get("events") or []
    [ready] = [e for e in events if e.get("event_type") == "application.transcription_ready"]
    return [(line["role"], line.get("content") or "") for line in ready["properties"]["transcript"]]


def test_forged_webhooks_then_the_real_end_leave_exactly_the_real_record(
    endpoint: Endpoint, engine: Engine, sandbox: RunningSandbox
) -> None:
    # The sandbox sends its own webhooks to the endpoint, as Tavus would.
    cid = sandbox.create(callback_url=endpoint.callback_url)["conversation_id"]
    add_conversation(engine, cid)
    forged_transcript = TranscriptionReadyWebhook(
        conversation_id=cid,
        timestamp=datetime.now(UTC),
        properties=TranscriptionReadyProperties(
            transcript=[TranscriptEntry(role="user", content="Forged line")]
        ),
    )
    _post(endpoint.client, forged_transcript)
    _post(endpoint.client, _shutdown(cid))
    assert _stored(engine, cid).status == "active"

    sandbox.end(cid)
    real_reason = sandbox.get(cid)["shutdown_reason"]
    _eventually(lambda: _stored(engine, cid).status == "ended", "the real shutdown")
    real = _real_transcript(sandbox, cid)
    _eventually(lambda: _official(engine, cid) == real, "the real transcript")
    assert ("user", "Forged line") not in _official(engine, cid)
    assert _stored(engine, cid).shutdown_reason == real_reason

    # Tavus redelivers the real transcript: nothing changes.
    events = sandbox.get(cid, verbose=True)["events"]
    [ready] = [e for e in events if e.get("event_type") == "application.transcription_ready"]
    again = endpoint.client.post(webhook_path(), json=ready)
    assert again.json() == {"status": "duplicate"}
    assert _official(engine, cid) == real
