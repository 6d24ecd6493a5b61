"""The sandbox refuses strangers and oversized input, over real HTTP and WebSocket.

A caller without the sandbox's key gets 401 and nothing else; a private room admits only its
meeting token; bodies and fields are bounded before anything is stored.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from cvi_app.config import Settings, sandbox_api_key
from cvi_app.live.manager import SessionManager
from cvi_app.sandbox.app import create_sandbox_app
from cvi_app.sandbox.registry import ConversationRegistry
from cvi_app.sandbox.rest import MAX_BODY_BYTES
from cvi_app.tavus.models import (
    MAX_EXTRA_FIELDS_BYTES,
    MAX_GREETING_CHARS,
    MAX_ID_CHARS,
    MAX_LANGUAGE_CHARS,
    MAX_LAYERS_BYTES,
    MAX_NAME_CHARS,
    MAX_PROMPT_CHARS,
    MAX_URL_CHARS,
)
from tests.support.sandbox import LiveSandbox, start_sandbox
from tests.support.servers import WAIT

from .conftest import SANDBOX_TEST_KEY, SandboxServer
from .helpers import room_client

INVALID_TOKEN = {"message": "Invalid access token"}
STRANGERS = [{}, {"x-api-key": ""}, {"x-api-key": "not-the-key"}]
STRANGER_IDS = ["missing", "blank", "wrong"]


@pytest.fixture
async def api(sandbox_server: SandboxServer) -> AsyncIterator[httpx.AsyncClient]:
    """A client for the sandbox API root that sends the right key."""
    async with httpx.AsyncClient(
        base_url=sandbox_server.base_url, headers={"x-api-key": SANDBOX_TEST_KEY}, timeout=WAIT
    ) as client:
        yield client


async def conversation_count(api: httpx.AsyncClient) -> int:
    response = await api.get("/conversations")
    assert response.status_code == 200, response.text
    total: int = response.json()["total_count"]
    return total


async def persona_names(api: httpx.AsyncClient) -> list[str | None]:
    response = await api.get("/personas", params={"limit": 100})
    assert response.status_code == 200, response.text
    return [persona.get("persona_name") for persona in response.json()["data"]]


async def user_persona(api: httpx.AsyncClient) -> str:
    response = await api.post("/personas", json={"persona_name": "Mine", "system_prompt": "Hi."})
    assert response.status_code == 200, response.text
    persona_id: str = response.json()["persona_id"]
    return persona_id


# --- the key --------------------------------------------------------------------------------


@pytest.mark.parametrize("headers", STRANGERS, ids=STRANGER_IDS)
async def test_every_route_answers_a_caller_without_the_key_with_401_and_nothing_else(
    api: httpx.AsyncClient, sandbox_server: SandboxServer, headers: dict[str, str]
) -> None:
    created = (await api.post("/conversations", json={"require_auth": True})).json()
    cid = created["conversation_id"]
    pid = await user_persona(api)
    patch = [{"op": "replace", "path": "/persona_name", "value": "Stolen"}]
    pal_patch = [{"op": "replace", "path": "/pal_name", "value": "Stolen"}]
    replica_id = created["replica_id"]
    requests: list[tuple[str, str, Any]] = [
        ("GET", "/conversations", None),
        ("GET", f"/conversations/{cid}", None),
        ("GET", f"/conversations/{cid}?verbose=true", None),
        ("POST", "/conversations", {}),
        ("POST", f"/conversations/{cid}/end", None),
        ("DELETE", f"/conversations/{cid}", None),
        ("DELETE", f"/conversations/{cid}?hard=true", None),
        ("GET", "/personas", None),
        ("POST", "/personas", {"persona_name": "Intruder"}),
        ("GET", f"/personas/{pid}", None),
        ("PATCH", f"/personas/{pid}", patch),
        ("DELETE", f"/personas/{pid}", None),
        ("GET", "/pals", None),
        ("POST", "/pals", {"pal_name": "Intruder"}),
        ("GET", f"/pals/{pid}", None),
        ("PATCH", f"/pals/{pid}", pal_patch),
        ("DELETE", f"/pals/{pid}", None),
        ("GET", "/replicas", None),
        ("GET", f"/replicas/{replica_id}", None),
        ("GET", "/faces", None),
        ("GET", f"/faces/{replica_id}", None),
    ]
    async with httpx.AsyncClient(
        base_url=sandbox_server.base_url, headers=headers, timeout=WAIT
    ) as stranger:
        for method, path, body in requests:
            response = await stranger.request(method, path, json=body)
            assert (response.status_code, response.json()) == (401, INVALID_TOKEN), (method, path)
            assert created["meeting_token"] not in response.text

    # Nothing the stranger asked for happened.
    assert await conversation_count(api) == 1
    shown = (await api.get(f"/conversations/{cid}")).json()
    assert shown["status"] == "active"
    names = await persona_names(api)
    assert "Mine" in names
    assert "Stolen" not in names and "Intruder" not in names


def test_a_registry_and_a_sandbox_always_need_a_key() -> None:
    for blank in ("", "   "):
        with pytest.raises(ValueError, match="api_key"):
            ConversationRegistry(api_key=blank)
        with pytest.raises(ValueError, match="api_key"):
            create_sandbox_app(api_key=blank)
    with pytest.raises(TypeError):
        ConversationRegistry()  # type: ignore[call-arg]


async def test_the_app_manager_reaches_its_own_sandbox_with_the_process_key() -> None:
    key = sandbox_api_key()
    async with start_sandbox(mount="/sandbox", api_key=key) as sandbox:
        settings = Settings(CVI_PUBLIC_URL=sandbox.root_url)  # type: ignore[call-arg]
        assert settings.sandbox_api_key is None
        manager = SessionManager(settings)
        try:
            async with manager.client() as client:
                personas = await client.list_personas()
        finally:
            await manager.aclose()
        assert personas.total_count >= 1
        async with httpx.AsyncClient(base_url=f"{sandbox.root_url}/sandbox/v2") as stranger:
            for headers in STRANGERS:
                response = await stranger.get("/conversations", headers=headers)
                assert (response.status_code, response.json()) == (401, INVALID_TOKEN)


async def test_a_cross_origin_preflight_gets_no_cors_permission() -> None:
    async with start_sandbox() as sandbox:
        async with httpx.AsyncClient(base_url=sandbox.root_url) as browser:
            preflight = await browser.options(
                "/v2/conversations",
                headers={
                    "Origin": "https://evil.example",
                    "Access-Control-Request-Method": "GET",
                    "Access-Control-Request-Headers": "x-api-key",
                },
            )
            simple = await browser.get(
                "/v2/conversations", headers={"Origin": "https://evil.example"}
            )
    for response in (preflight, simple):
        assert "access-control-allow-origin" not in response.headers
        assert "access-control-allow-headers" not in response.headers


# --- private rooms ----------------------------------------------------------------------------


@pytest.fixture
async def live_sandbox() -> AsyncIterator[LiveSandbox]:
    async with start_sandbox() as sandbox:
        yield sandbox


async def test_a_private_room_page_needs_its_meeting_token(live_sandbox: LiveSandbox) -> None:
    created = await live_sandbox.create(require_auth=True)
    cid, token = created["conversation_id"], created["meeting_token"]
    page = urlsplit(created["conversation_url"]).path
    async with httpx.AsyncClient(base_url=live_sandbox.root_url) as browser:
        refused = [
            await browser.get(page),
            await browser.get(page, params={"t": ""}),
            await browser.get(page, params={"t": "guess"}),
        ]
        admitted = await browser.get(page, params={"t": token})
    for response in refused:
        assert response.status_code == 401
        assert "meeting link" in response.text
        assert cid not in response.text
    assert admitted.status_code == 200
    assert cid in admitted.text


async def test_knowing_a_private_conversation_id_lets_no_stranger_join_speak_or_end_it(
    live_sandbox: LiveSandbox,
) -> None:
    created = await live_sandbox.create(require_auth=True)
    cid, token = created["conversation_id"], created["meeting_token"]
    async with room_client(live_sandbox.root_url, cid, token=token, user_name="owner") as owner:
        for guess in (None, "", "guess", token[:-1]):
            async with room_client(
                live_sandbox.root_url, cid, token=guess, expect_joined=False
            ) as intruder:
                error = await intruder.recv()
                assert error["type"] == "error" and "meeting token" in error["reason"]
                code, _ = await intruder.closed()
                assert code == 4401
        replica = live_sandbox.parts.runtime.replica(cid)
        assert replica is not None
        room = live_sandbox.parts.hub.get(cid)
        assert room is not None
        assert [p.user_name for p in room.participants if not p.is_replica] == ["owner"]
        assert owner.me is not None
        assert not any(line.role == "user" for line in replica.transcript)
        shown = (await live_sandbox.api.get(f"/v2/conversations/{cid}")).json()
        assert shown["status"] == "active"


# --- bodies -----------------------------------------------------------------------------------


async def raw_exchange(base_url: str, request: bytes, *, then: bytes = b"") -> tuple[int, bytes]:
    """Send raw bytes (never the rest of the body), and read the status and body of the answer.

    A server that waited for the whole announced body would never answer: the read times out.
    """
    parts = urlsplit(base_url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    try:
        writer.write(request + then)
        await writer.drain()
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), WAIT)
        status = int(head.split(b" ", 2)[1])
        length = next(
            int(line.split(b":", 1)[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        )
        body = await asyncio.wait_for(reader.readexactly(length), WAIT)
        return status, body
    finally:
        writer.close()


def request_head(base_url: str, path: str, *extra: str) -> bytes:
    parts = urlsplit(base_url)
    lines = [
        f"POST {parts.path}{path} HTTP/1.1",
        f"Host: {parts.netloc}",
        f"x-api-key: {SANDBOX_TEST_KEY}",
        "Content-Type: application/json",
        *extra,
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def test_a_body_announced_over_the_cap_is_refused_before_it_is_read(
    sandbox_server: SandboxServer, api: httpx.AsyncClient
) -> None:
    before = await persona_names(api)
    head = request_head(sandbox_server.base_url, "/personas", "Content-Length: 52428800")
    status, body = await raw_exchange(
        sandbox_server.base_url, head, then=b'{"persona_name": "' + b"x" * 1000
    )
    assert status == 413
    assert "too large" in json.loads(body)["error"]
    assert await persona_names(api) == before


async def test_a_chunked_body_is_refused_once_it_passes_the_cap(
    sandbox_server: SandboxServer, api: httpx.AsyncClient
) -> None:
    head = request_head(sandbox_server.base_url, "/conversations", "Transfer-Encoding: chunked")
    chunk = b"x" * 65536
    chunks = b"".join(
        b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(MAX_BODY_BYTES // 65536 + 2)
    )
    # No terminating chunk: a server that reads to the end would still be waiting.
    status, body = await raw_exchange(sandbox_server.base_url, head, then=chunks)
    assert status == 413
    assert "too large" in json.loads(body)["error"]
    assert await conversation_count(api) == 0


async def test_a_50_mb_persona_name_is_refused_and_never_stored(api: httpx.AsyncClient) -> None:
    before = await persona_names(api)
    for path in ("/personas", "/pals"):
        response = await api.post(path, json={"persona_name": "x" * 50_000_000})
        assert response.status_code == 413
        assert "too large" in response.json()["error"]
    assert await persona_names(api) == before


async def test_a_chunked_body_under_the_cap_is_read_whole(api: httpx.AsyncClient) -> None:
    payload = json.dumps({"persona_name": "Streamed", "system_prompt": "p" * 100_000}).encode()

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(payload), 10_000):
            yield payload[start : start + 10_000]

    response = await api.post("/personas", content=chunks())
    assert response.status_code == 200, response.text
    assert response.json()["persona_name"] == "Streamed"


# --- fields -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"conversation_name": "n" * (MAX_NAME_CHARS + 1)}, "conversation_name"),
        ({"conversational_context": "c" * (MAX_PROMPT_CHARS + 1)}, "conversational_context"),
        ({"custom_greeting": "g" * (MAX_GREETING_CHARS + 1)}, "custom_greeting"),
        ({"callback_url": "https://a.example/" + "u" * MAX_URL_CHARS}, "callback_url"),
        ({"persona_id": "p" * (MAX_ID_CHARS + 1)}, "persona_id"),
        ({"replica_id": "r" * (MAX_ID_CHARS + 1)}, "replica_id"),
        ({"properties": {"language": "l" * (MAX_LANGUAGE_CHARS + 1)}}, "properties.language"),
        ({"document_tags": ["t" * (MAX_NAME_CHARS + 1)]}, "document_tags.0"),
        ({"future_setting": ["t" * MAX_EXTRA_FIELDS_BYTES]}, "unknown fields"),
        ({"properties": {"future_storage": "s" * MAX_EXTRA_FIELDS_BYTES}}, "unknown fields"),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
async def test_conversation_fields_over_their_limit_get_400_naming_the_field(
    api: httpx.AsyncClient, body: dict[str, Any], field: str
) -> None:
    response = await api.post("/conversations", json=body)
    assert response.status_code == 400, response.text
    assert field in response.json()["error"]
    assert await conversation_count(api) == 0


async def test_conversation_fields_at_their_limit_are_accepted(api: httpx.AsyncClient) -> None:
    response = await api.post(
        "/conversations",
        json={
            "conversation_name": "n" * MAX_NAME_CHARS,
            "conversational_context": "c" * MAX_PROMPT_CHARS,
            "custom_greeting": "g" * MAX_GREETING_CHARS,
            "callback_url": "https://a.example/" + "u" * (MAX_URL_CHARS - 18),
        },
    )
    assert response.status_code == 200, response.text
    assert response.json()["conversation_name"] == "n" * MAX_NAME_CHARS


def big_layers() -> dict[str, Any]:
    tool = {
        "type": "function",
        "function": {"name": "t", "description": "d" * 10_000, "parameters": {}},
    }
    return {"llm": {"tools": [tool] * (MAX_LAYERS_BYTES // 10_000 + 1)}}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"persona_name": "n" * (MAX_NAME_CHARS + 1)}, "persona_name"),
        ({"pal_name": "n" * (MAX_NAME_CHARS + 1)}, "pal_name"),
        ({"system_prompt": "s" * (MAX_PROMPT_CHARS + 1)}, "system_prompt"),
        ({"context": "c" * (MAX_PROMPT_CHARS + 1)}, "context"),
        ({"default_replica_id": "r" * (MAX_ID_CHARS + 1)}, "default_replica_id"),
        ({"layers": big_layers()}, "layers"),
        ({"document_ids": ["d" * (MAX_ID_CHARS + 1)]}, "document_ids.0"),
        ({"future_setting": ["d" * MAX_EXTRA_FIELDS_BYTES]}, "unknown fields"),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
async def test_persona_fields_over_their_limit_get_400_naming_the_field(
    api: httpx.AsyncClient, body: dict[str, Any], field: str
) -> None:
    before = await persona_names(api)
    response = await api.post("/personas", json=body)
    assert response.status_code == 400, response.text
    assert field in response.json()["error"]
    assert await persona_names(api) == before


@pytest.mark.parametrize(
    ("resource", "operation"),
    [
        (
            "personas",
            {"op": "replace", "path": "/persona_name", "value": "n" * (MAX_NAME_CHARS + 1)},
        ),
        ("pals", {"op": "replace", "path": "/pal_name", "value": "n" * (MAX_NAME_CHARS + 1)}),
        (
            "personas",
            {"op": "replace", "path": "/system_prompt", "value": "s" * (MAX_PROMPT_CHARS + 1)},
        ),
        ("personas", {"op": "add", "path": "/context", "value": "c" * (MAX_PROMPT_CHARS + 1)}),
        ("personas", {"op": "add", "path": "/layers", "value": big_layers()}),
        ("personas", {"op": "add", "path": "/notes", "value": "x" * MAX_EXTRA_FIELDS_BYTES}),
    ],
    ids=lambda value: value if isinstance(value, str) else value["path"],
)
async def test_a_patch_cannot_get_around_the_limits(
    api: httpx.AsyncClient, resource: str, operation: dict[str, Any]
) -> None:
    pid = await user_persona(api)
    before = (await api.get(f"/personas/{pid}")).json()
    response = await api.patch(f"/{resource}/{pid}", json=[operation])
    assert response.status_code == 400, response.text
    assert "after patch" in response.json()["error"]
    assert (await api.get(f"/personas/{pid}")).json() == before


async def test_many_small_patches_cannot_grow_a_persona_without_bound(
    api: httpx.AsyncClient,
) -> None:
    pid = await user_persona(api)
    piece = MAX_EXTRA_FIELDS_BYTES // 4
    statuses = []
    for index in range(6):
        operation = {"op": "add", "path": f"/note_{index}", "value": "x" * piece}
        statuses.append((await api.patch(f"/personas/{pid}", json=[operation])).status_code)
    assert statuses[:3] == [200, 200, 200]
    assert 400 in statuses
    stored = (await api.get(f"/personas/{pid}")).json()["data"][0]
    assert len(json.dumps(stored)) < MAX_EXTRA_FIELDS_BYTES + 10_000
