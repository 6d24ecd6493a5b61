"""Fuzzing the webhook endpoint over real HTTP: malformed, oversized, wrong-typed, misaddressed
and repeated bodies never get a 5xx, what is not a valid webhook for a known conversation gets
a 4xx, valid ones are stored, and the server goes on answering."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine
from starlette.applications import Starlette

from cvi_app.config import Settings
from cvi_app.protocol import ProtocolError, parse_webhook
from cvi_app.store import list_webhook_deliveries, session_scope
from cvi_app.tavus import TavusClient
from cvi_app.webhooks import MAX_BODY_BYTES, webhook_routes
from cvi_app.webhooks.verify import ApiAnswer, conversation_at_api
from tests.live.conftest import add_conversation
from tests.protocol.strategies import json_objects, json_values, mutated
from tests.support.sandbox import SANDBOX_KEY, start_sandbox
from tests.support.servers import serve

SECRET = "reliability-webhook-secret-0123456789"
PATH = f"/api/webhooks/tavus/{SECRET}"
KNOWN = "c-known"
TIMESTAMP = "2026-11-24T21:02:03.123Z"

conversation_ids = st.sampled_from([KNOWN, KNOWN, "c-unknown", ""]) | st.text(max_size=20)
text = st.text(max_size=40)


@st.composite
def webhooks(draw: st.DrawFn) -> dict[str, Any]:
    """A webhook body in the documented shape (for a known conversation or not)."""
    kinds: dict[str, tuple[str, st.SearchStrategy[Any]]] = {
        "system.replica_joined": ("system", st.fixed_dictionaries({"replica_id": text})),
        "system.pal_joined": ("system", st.fixed_dictionaries({})),
        "system.shutdown": (
            "system",
            st.fixed_dictionaries({}, optional={"shutdown_reason": text, "reason": text}),
        ),
        "application.transcription_ready": (
            "application",
            st.fixed_dictionaries(
                {
                    "transcript": st.lists(
                        st.fixed_dictionaries(
                            {
                                "role": st.sampled_from(["system", "user", "assistant", "tool"]),
                                "content": text,
                            },
                            optional={
                                "seconds_from_start": st.floats(0, 1e5),
                                "timestamp": st.floats(0, 4e9) | st.just(TIMESTAMP),
                                "inference_id": text,
                            },
                        ),
                        max_size=6,
                    )
                }
            ),
        ),
        "application.recording_ready": (
            "application",
            st.fixed_dictionaries(
                {"bucket_name": text, "s3_key": text, "duration": st.floats(0, 1e4)}
            ),
        ),
        "application.perception_analysis": (
            "application",
            st.fixed_dictionaries({"analysis": text}),
        ),
        "application.something_new": ("application", json_objects),
    }
    event_type = draw(st.sampled_from(sorted(kinds)))
    message_type, properties = kinds[event_type]
    body: dict[str, Any] = {
        "conversation_id": draw(conversation_ids),
        "event_type": event_type,
        "message_type": message_type,
        "properties": draw(properties),
    }
    if draw(st.booleans()):
        body["timestamp"] = TIMESTAMP
    if draw(st.booleans()):
        body["webhook_url"] = f"http://127.0.0.1{PATH}?start=abc"
    return body


@dataclass(frozen=True)
class Request:
    """One request to make: method, path and raw body (or a streamed one)."""

    method: str
    path: str
    body: bytes
    chunked: bool = False


def as_request(body: bytes, *, path: str = PATH, method: str = "POST") -> Request:
    return Request(method, path, body)


requests = st.one_of(
    webhooks().map(lambda b: as_request(json.dumps(b).encode())),
    mutated(webhooks()).map(lambda b: as_request(json.dumps(b).encode())),
    json_values.map(lambda v: as_request(json.dumps(v).encode())),
    st.binary(max_size=200).map(as_request),
    st.text(max_size=200).map(lambda t: as_request(t.encode("utf-8", "surrogatepass"))),
    webhooks().map(lambda b: as_request(json.dumps(b).encode()[:-1])),  # cut short
    st.integers(2_000, 50_000).map(
        lambda depth: as_request(b'{"properties": ' + b"[" * depth + b"]" * depth + b"}")
    ),
    st.integers(MAX_BODY_BYTES + 1, MAX_BODY_BYTES + 4096).map(
        lambda size: as_request(b'{"analysis": "' + b"x" * size + b'"}')
    ),
    st.integers(MAX_BODY_BYTES + 1, MAX_BODY_BYTES + 4096).map(
        lambda size: Request("POST", PATH, b"[" + b"1," * (size // 2) + b"1]", chunked=True)
    ),
    webhooks().map(
        lambda b: as_request(json.dumps(b).encode(), path=PATH[:-1] + "x")  # wrong secret
    ),
    webhooks().map(lambda b: as_request(json.dumps(b).encode(), method="PUT")),
)


def expected_ok(request: Request) -> bool:
    """Whether the endpoint must store this: a valid webhook for the known conversation."""
    if request.method != "POST" or request.path != PATH or len(request.body) > MAX_BODY_BYTES:
        return False
    try:
        webhook = parse_webhook(request.body)
    except ProtocolError:
        return False
    return webhook.conversation_id == KNOWN


@dataclass
class Endpoint:
    client: httpx.AsyncClient
    engine: Engine
    sent: int = 0
    stored_ok: int = 0


@pytest.fixture
def webhook_settings() -> Iterator[Settings]:
    yield Settings(CVI_WEBHOOK_SECRET=SECRET, CVI_PUBLIC_URL="http://127.0.0.1")  # type: ignore[call-arg]


@pytest.fixture
async def endpoint(engine: Engine, webhook_settings: Settings) -> AsyncIterator[Endpoint]:
    """The webhook route alone, served over the test's store, with one known conversation."""
    add_conversation(engine, KNOWN)
    async with start_sandbox() as api:

        async def verify_end(conversation_id: str) -> ApiAnswer:
            # The real sandbox API: it has never heard of these conversations.
            async with TavusClient(
                api_key=SANDBOX_KEY, base_url=f"{api.root_url}/v2", timeout=5, max_retries=0
            ) as client:
                return await conversation_at_api(client, conversation_id)

        routes = webhook_routes(
            settings=webhook_settings,
            engine_factory=lambda: engine,
            verify_end=verify_end,
            unknown_grace_s=0.0,
        )
        async with (
            serve(Starlette(routes=routes)) as url,
            httpx.AsyncClient(base_url=url, timeout=30) as client,
        ):
            yield Endpoint(client, engine)


async def send(client: httpx.AsyncClient, request: Request) -> httpx.Response:
    if request.chunked:
        body = request.body

        async def stream() -> AsyncIterator[bytes]:
            for start in range(0, len(body), 65536):
                yield body[start : start + 65536]

        return await client.request(request.method, request.path, content=stream())
    return await client.request(
        request.method,
        request.path,
        content=request.body,
        headers={"content-type": "application/json"},
    )


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(batch=st.lists(requests, min_size=1, max_size=12))
async def test_hostile_webhook_bodies_get_a_4xx_never_a_5xx_and_the_server_stays_up(
    endpoint: Endpoint, batch: list[Request]
) -> None:
    for request in batch:
        response = await send(endpoint.client, request)
        endpoint.sent += 1
        assert response.status_code < 500, (request, response.text)
        if expected_ok(request):
            assert response.status_code == 200, (request, response.text)
            assert response.json()["status"] in ("stored", "duplicate")
            endpoint.stored_ok += 1
        else:
            assert 400 <= response.status_code < 500, (request, response.text)
    # Still answering: a plain, valid webhook is taken.
    ping = {
        "conversation_id": KNOWN,
        "event_type": "system.replica_joined",
        "message_type": "system",
        "properties": {"replica_id": "r-ping"},
    }
    assert (await endpoint.client.post(PATH, json=ping)).status_code == 200


async def test_only_valid_webhooks_for_known_conversations_are_stored(
    endpoint: Endpoint, engine: Engine
) -> None:
    good = {
        "conversation_id": KNOWN,
        "event_type": "application.perception_analysis",
        "message_type": "application",
        "properties": {"analysis": "attentive"},
    }
    for body in (good, {**good, "conversation_id": "c-unknown"}, {**good, "properties": []}):
        await endpoint.client.post(PATH, json=body)
    with session_scope(engine) as s:
        assert [d.event_type for d in list_webhook_deliveries(s, conversation_id=KNOWN)] == [
            "application.perception_analysis"
        ]
        assert list_webhook_deliveries(s, conversation_id="c-unknown") == []
