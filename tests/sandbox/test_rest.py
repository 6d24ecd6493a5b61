"""The sandbox REST API over real HTTP: Tavus's shapes, status codes and error bodies."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Any

import httpx
import pytest

from cvi_app.sandbox.catalog import (
    ASSISTANT_PERSONA_ID,
    DEFAULT_REPLICA_ID,
    EXAMPLE_PERSONA_ID,
    EXAMPLE_REPLICA_IDS,
    PERCEPTION_PERSONA_ID,
    PLACEHOLDER_THUMBNAIL,
    STOCK_REPLICA_IDS,
    SUPPORT_PERSONA_ID,
)
from cvi_app.sandbox.models import SandboxConversation
from cvi_app.sandbox.registry import ConversationRegistry

from .conftest import SANDBOX_TEST_KEY, SandboxServer

ServeSandbox = Callable[..., SandboxServer]

CONVERSATION_ID = re.compile(r"^c[0-9a-f]{11}$")


class RecordingRuntime:
    """A runtime that only remembers what the registry asked of it."""

    def __init__(self, *, fail_start: bool = False) -> None:
        self.fail_start = fail_start
        self.started: list[str] = []
        self.stopped: list[tuple[str, str]] = []

    async def start(self, conversation: SandboxConversation) -> None:
        self.started.append(conversation.conversation_id)
        if self.fail_start:
            raise RuntimeError("room hub unavailable")

    async def stop(self, conversation: SandboxConversation, reason: str) -> None:
        self.stopped.append((conversation.conversation_id, reason))


@pytest.fixture
async def api(sandbox_server: SandboxServer) -> AsyncIterator[httpx.AsyncClient]:
    """A raw HTTP client for the sandbox API root, sending the right key."""
    async with httpx.AsyncClient(
        base_url=sandbox_server.base_url, headers={"x-api-key": SANDBOX_TEST_KEY}, timeout=10
    ) as client:
        yield client


async def create(api: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
    response = await api.post("/conversations", json=body)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


# --- auth -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [{}, {"x-api-key": ""}, {"x-api-key": "not-the-key"}],
    ids=["missing", "empty", "wrong"],
)
async def test_requests_without_the_right_api_key_get_tavus_401(
    sandbox_server: SandboxServer, headers: dict[str, str]
) -> None:
    async with httpx.AsyncClient(base_url=sandbox_server.base_url, headers=headers) as client:
        response = await client.get("/conversations")
    assert response.status_code == 401
    assert response.json() == {"message": "Invalid access token"}


# --- conversations: create ---------------------------------------------------------------------


async def test_created_conversation_has_tavus_shape_and_a_room_url_beside_the_api(
    api: httpx.AsyncClient, sandbox_server: SandboxServer
) -> None:
    body = await create(api, conversation_name="Demo", callback_url="https://example.test/hook")

    cid = body["conversation_id"]
    assert CONVERSATION_ID.match(cid)
    assert body["conversation_name"] == "Demo"
    assert body["status"] == "active"
    assert body["conversation_url"] == f"{sandbox_server.root_url}/rooms/{cid}"
    assert body["callback_url"] == "https://example.test/hook"
    assert body["persona_id"] == ASSISTANT_PERSONA_ID
    assert body["replica_id"] == DEFAULT_REPLICA_ID
    assert datetime.fromisoformat(body["created_at"]).tzinfo is not None
    assert "meeting_token" not in body

    stored = sandbox_server.registry.get_conversation(cid)
    assert stored.properties.max_call_duration == 3600
    assert stored.properties.participant_left_timeout == 0
    assert stored.properties.participant_absent_timeout == 300
    assert stored.persona.persona_id == ASSISTANT_PERSONA_ID


async def test_room_url_follows_the_sandbox_mount_when_nested(serve_sandbox: ServeSandbox) -> None:
    registry = ConversationRegistry(api_key="k")
    server = serve_sandbox(registry, prefix="/sandbox")
    assert server.base_url.endswith("/sandbox/v2")
    async with httpx.AsyncClient(base_url=server.base_url, headers={"x-api-key": "k"}) as client:
        body = (await client.post("/conversations", json={})).json()
    assert body["conversation_url"] == (
        f"{server.root_url}/sandbox/rooms/{body['conversation_id']}"
    )


async def test_newer_pal_and_face_names_are_accepted_on_create(
    api: httpx.AsyncClient, sandbox_server: SandboxServer
) -> None:
    body = await create(api, pal_id=SUPPORT_PERSONA_ID, face_id=STOCK_REPLICA_IDS[2])

    assert body["persona_id"] == SUPPORT_PERSONA_ID
    assert body["replica_id"] == STOCK_REPLICA_IDS[2]
    stored = sandbox_server.registry.get_conversation(body["conversation_id"])
    assert [tool.function.name for tool in stored.persona.tools] == ["get_weather", "lookup_order"]
    assert stored.persona.perception_enabled is False


async def test_conversation_carries_its_persona_perception_and_options(
    api: httpx.AsyncClient, sandbox_server: SandboxServer
) -> None:
    body = await create(
        api,
        persona_id=PERCEPTION_PERSONA_ID,
        conversational_context="You are at a museum.",
        custom_greeting="Welcome!",
        audio_only=True,
        max_participants=3,
        properties={"max_call_duration": 60, "participant_left_timeout": 5, "language": "french"},
    )

    stored = sandbox_server.registry.get_conversation(body["conversation_id"])
    assert stored.persona.perception_enabled is True
    assert stored.persona.perception_model == "raven-0"
    assert stored.conversational_context == "You are at a museum."
    assert stored.custom_greeting == "Welcome!"
    assert stored.audio_only is True
    assert stored.max_participants == 3
    assert stored.properties.max_call_duration == 60
    assert stored.properties.participant_left_timeout == 5
    assert stored.properties.participant_absent_timeout == 300
    assert stored.properties.language == "french"


@pytest.mark.parametrize(
    ("content", "field"),
    [
        (b"{not json", "JSON"),
        (b"[]", "object"),
        (b'{"audio_only": "yes"}', "audio_only"),
        (b'{"properties": {"max_call_duration": "long"}}', "properties.max_call_duration"),
        (b'{"properties": {"participant_absent_timeout": -1}}', "participant_absent_timeout"),
        (b'{"callback_url": "ftp://example.test"}', "callback_url"),
        (b'{"max_participants": 1}', "max_participants"),
        (b'{"persona_id": "p00000000000"}', "persona_id"),
        (b'{"replica_id": "r00000000000"}', "replica_id"),
    ],
    ids=[
        "not-json",
        "not-object",
        "bool",
        "int",
        "negative",
        "url",
        "participants",
        "unknown-persona",
        "unknown-replica",
    ],
)
async def test_bad_conversation_bodies_get_400_naming_the_field(
    api: httpx.AsyncClient, content: bytes, field: str
) -> None:
    response = await api.post(
        "/conversations", content=content, headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert field in response.json()["error"]


async def test_concurrency_limit_is_refused_like_tavus_until_a_conversation_ends(
    api: httpx.AsyncClient, sandbox_server: SandboxServer
) -> None:
    first, *_ = [await create(api) for _ in range(sandbox_server.registry.max_concurrent)]

    refused = await api.post("/conversations", json={})
    assert refused.status_code == 400
    assert "maximum concurrent conversations" in refused.json()["error"]

    assert (await api.post(f"/conversations/{first['conversation_id']}/end")).status_code == 200
    assert (await api.post("/conversations", json={})).status_code == 200


async def test_test_mode_creates_an_ended_conversation_that_never_starts_or_counts(
    serve_sandbox: ServeSandbox,
) -> None:
    runtime = RecordingRuntime()
    registry = ConversationRegistry(api_key="k", max_concurrent=1, runtime=runtime)
    server = serve_sandbox(registry)
    async with httpx.AsyncClient(base_url=server.base_url, headers={"x-api-key": "k"}) as client:
        trial = (await client.post("/conversations", json={"test_mode": True})).json()
        live = await client.post("/conversations", json={})
    assert trial["status"] == "ended"
    assert live.status_code == 200
    assert runtime.started == [live.json()["conversation_id"]]


async def test_a_runtime_that_fails_to_start_gives_500_and_an_ended_conversation(
    serve_sandbox: ServeSandbox,
) -> None:
    registry = ConversationRegistry(api_key="k", runtime=RecordingRuntime(fail_start=True))
    server = serve_sandbox(registry)
    async with httpx.AsyncClient(base_url=server.base_url, headers={"x-api-key": "k"}) as client:
        response = await client.post("/conversations", json={})
    assert response.status_code == 500
    assert "Could not start conversation" in response.json()["error"]
    [conversation], total = registry.list_conversations()
    assert total == 1
    assert conversation.status == "ended"
    assert not registry.active_conversations()


async def test_require_auth_returns_a_meeting_token_the_room_checks(
    api: httpx.AsyncClient, sandbox_server: SandboxServer
) -> None:
    body = await create(api, require_auth=True)
    open_body = await create(api)

    token = body["meeting_token"]
    stored = sandbox_server.registry.get_conversation(body["conversation_id"])
    assert len(token) >= 24
    assert stored.token_allows(token)
    assert not stored.token_allows("guess")
    assert not stored.token_allows(None)
    public = sandbox_server.registry.get_conversation(open_body["conversation_id"])
    assert public.meeting_token is None
    assert public.token_allows(None)


# --- conversations: read, end, delete ----------------------------------------------------------


async def test_list_pages_newest_first_with_total_count_and_status_filter(
    api: httpx.AsyncClient, sandbox_server: SandboxServer
) -> None:
    sandbox_server.registry.max_concurrent = 10
    ids = [(await create(api, conversation_name=f"n{i}"))["conversation_id"] for i in range(5)]
    await api.post(f"/conversations/{ids[0]}/end")
    await api.post(f"/conversations/{ids[1]}/end")

    page1 = (await api.get("/conversations", params={"limit": 2, "page": 1})).json()
    page3 = (await api.get("/conversations", params={"limit": 2, "page": 3})).json()
    ended = (await api.get("/conversations", params={"status": "ended"})).json()
    active = (await api.get("/conversations", params={"status": "active"})).json()

    assert page1["total_count"] == 5
    assert [c["conversation_id"] for c in page1["data"]] == [ids[4], ids[3]]
    assert [c["conversation_id"] for c in page3["data"]] == [ids[0]]
    assert {c["conversation_id"] for c in ended["data"]} == {ids[0], ids[1]}
    assert ended["total_count"] == 2
    assert active["total_count"] == 3
    assert all(c["status"] == "active" for c in active["data"])


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/conversations", {"limit": "ten"}),
        ("/conversations", {"page": "x"}),
        ("/personas", {"persona_type": "stock"}),
        ("/replicas", {"verbose": "maybe"}),
    ],
    ids=["limit", "page", "persona_type", "verbose"],
)
async def test_list_parameters_of_the_wrong_type_get_400(
    api: httpx.AsyncClient, path: str, params: dict[str, str]
) -> None:
    response = await api.get(path, params=params)
    assert response.status_code == 400
    assert next(iter(params)) in response.json()["error"]


@pytest.mark.parametrize("path", ["/conversations", "/personas", "/replicas", "/pals", "/faces"])
async def test_the_official_clients_zero_paging_lists_the_first_page(
    api: httpx.AsyncClient, path: str
) -> None:
    # Tavus's CLI sends page=0 and limit=0 when no page was chosen.
    first = (await api.get(path)).json()
    for params in ({"page": "0"}, {"limit": "0"}, {"page": "0", "limit": "0"}, {"page": "-3"}):
        response = await api.get(path, params=params)
        assert response.status_code == 200, response.text
        assert response.json() == first


async def test_an_unknown_status_lists_no_conversation(api: httpx.AsyncClient) -> None:
    await create(api)
    response = await api.get("/conversations", params={"status": "paused"})
    assert response.status_code == 200
    assert response.json() == {"data": [], "total_count": 0}


async def test_unknown_conversation_ids_get_404(api: httpx.AsyncClient) -> None:
    for response in (
        await api.get("/conversations/c00000000000"),
        await api.post("/conversations/c00000000000/end"),
        await api.delete("/conversations/c00000000000"),
    ):
        assert response.status_code == 404
        assert "c00000000000" in response.json()["error"]


async def test_verbose_adds_the_events_the_runtime_recorded(
    api: httpx.AsyncClient, sandbox_server: SandboxServer
) -> None:
    cid = (await create(api))["conversation_id"]
    event = {
        "event_type": "system.replica_joined",
        "message_type": "system",
        "conversation_id": cid,
        "timestamp": "2025-01-01T00:00:00Z",
        "properties": {"replica_id": DEFAULT_REPLICA_ID},
    }
    assert sandbox_server.registry.record_event(cid, event)
    event["properties"]["replica_id"] = "changed later"

    plain = (await api.get(f"/conversations/{cid}")).json()
    verbose = (await api.get(f"/conversations/{cid}", params={"verbose": "true"})).json()

    assert "events" not in plain
    assert verbose["events"] == [
        {**event, "properties": {"replica_id": DEFAULT_REPLICA_ID}},
    ]
    assert not sandbox_server.registry.record_event("c00000000000", event)


async def test_ending_marks_the_conversation_ended_once_and_stops_the_runtime_once(
    serve_sandbox: ServeSandbox,
) -> None:
    runtime = RecordingRuntime()
    registry = ConversationRegistry(api_key="k", runtime=runtime)
    server = serve_sandbox(registry)
    async with httpx.AsyncClient(base_url=server.base_url, headers={"x-api-key": "k"}) as client:
        cid = (await client.post("/conversations", json={})).json()["conversation_id"]
        first = await client.post(f"/conversations/{cid}/end")
        second = await client.post(f"/conversations/{cid}/end")
        shown = (await client.get(f"/conversations/{cid}")).json()
    assert first.status_code == second.status_code == 200
    assert shown["status"] == "ended"
    assert shown["shutdown_reason"] == "end_conversation_endpoint_hit"
    assert runtime.stopped == [(cid, "end_conversation_endpoint_hit")]
    assert registry.get_conversation(cid).ended_at is not None


async def test_soft_delete_hides_a_conversation_and_hard_delete_forgets_it(
    serve_sandbox: ServeSandbox,
) -> None:
    runtime = RecordingRuntime()
    registry = ConversationRegistry(api_key="k", runtime=runtime)
    server = serve_sandbox(registry)
    async with httpx.AsyncClient(base_url=server.base_url, headers={"x-api-key": "k"}) as client:
        cid = (await client.post("/conversations", json={})).json()["conversation_id"]
        soft = await client.delete(f"/conversations/{cid}")
        after_soft = await client.get(f"/conversations/{cid}")
        listed = (await client.get("/conversations")).json()
        soft_again = await client.delete(f"/conversations/{cid}")
        hard = await client.delete(f"/conversations/{cid}", params={"hard": "true"})
    assert soft.status_code == 204
    assert soft.content == b""
    assert after_soft.status_code == 404
    assert listed == {"data": [], "total_count": 0}
    assert soft_again.status_code == 404
    assert hard.status_code == 204
    assert runtime.stopped == [(cid, "daily_room_has_been_deleted")]
    assert registry.list_conversations() == ([], 0)
    assert not registry.record_event(cid, {"event_type": "late"})


# --- personas -------------------------------------------------------------------------------


async def test_stock_personas_are_listed_with_tools_and_perception(api: httpx.AsyncClient) -> None:
    listing = (await api.get("/personas")).json()
    by_id = {p["persona_id"]: p for p in listing["data"]}

    assert listing["total_count"] == 4
    assert set(by_id) == {
        ASSISTANT_PERSONA_ID,
        SUPPORT_PERSONA_ID,
        PERCEPTION_PERSONA_ID,
        EXAMPLE_PERSONA_ID,
    }
    system = (await api.get("/personas", params={"persona_type": "system"})).json()
    assert EXAMPLE_PERSONA_ID not in {p["persona_id"] for p in system["data"]}
    tools = by_id[SUPPORT_PERSONA_ID]["layers"]["llm"]["tools"]
    assert [t["function"]["name"] for t in tools] == ["get_weather", "lookup_order"]
    assert tools[0]["function"]["parameters"]["required"] == ["city"]
    assert tools[1]["function"]["parameters"]["required"] == ["order_id"]
    assert by_id[PERCEPTION_PERSONA_ID]["layers"]["perception"]["perception_model"] == "raven-0"


async def test_one_persona_is_returned_in_a_data_list_like_tavus(api: httpx.AsyncClient) -> None:
    response = await api.get(f"/personas/{SUPPORT_PERSONA_ID}")
    assert response.status_code == 200
    [persona] = response.json()["data"]
    assert persona["persona_name"] == "Support Agent"
    assert (await api.get("/personas/p00000000000")).status_code == 404


async def test_persona_lifecycle_create_patch_delete(api: httpx.AsyncClient) -> None:
    created = await api.post(
        "/personas",
        json={
            "persona_name": "Coach",
            "system_prompt": "You coach.",
            "default_replica_id": DEFAULT_REPLICA_ID,
            "layers": {"llm": {"model": "tavus-gpt-4o", "tools": []}},
        },
    )
    assert created.status_code == 200
    persona = created.json()
    pid = persona["persona_id"]
    assert re.match(r"^p[0-9a-f]{11}$", pid)
    assert persona["persona_type"] == "user"

    patched = await api.patch(
        f"/personas/{pid}",
        json=[
            {"op": "replace", "path": "/persona_name", "value": "Head Coach"},
            {"op": "add", "path": "/context", "value": "Tennis."},
            {
                "op": "add",
                "path": "/layers/llm/tools/-",
                "value": {"type": "function", "function": {"name": "book_court"}},
            },
        ],
    )
    assert patched.status_code == 200, patched.text
    shown = (await api.get(f"/personas/{pid}")).json()["data"][0]
    assert shown["persona_name"] == "Head Coach"
    assert shown["context"] == "Tennis."
    assert [t["function"]["name"] for t in shown["layers"]["llm"]["tools"]] == ["book_court"]
    users = (await api.get("/personas", params={"persona_type": "user"})).json()
    assert {p["persona_id"] for p in users["data"]} == {pid, EXAMPLE_PERSONA_ID}

    assert (await api.delete(f"/personas/{pid}")).status_code == 204
    assert (await api.get(f"/personas/{pid}")).status_code == 404
    assert (await api.delete(f"/personas/{pid}")).status_code == 404


@pytest.mark.parametrize(
    ("patch", "words"),
    [
        ({"op": "replace", "path": "/persona_name", "value": "x"}, "array"),
        ([{"op": "replace", "path": "/no_such_field", "value": "x"}], "patch"),
        ([{"op": "replace", "path": "/persona_id", "value": "p999"}], "id"),
        ([{"op": "add", "path": "/layers/llm/tools/-", "value": {"type": "function"}}], "function"),
        (
            [{"op": "add", "path": "/layers/tts", "value": {"pronunciation_dictionary_id": {}}}],
            "tts",
        ),
    ],
    ids=["not-array", "missing-target", "id-change", "bad-tool", "bad-field-type"],
)
async def test_bad_persona_patches_get_400_and_change_nothing(
    api: httpx.AsyncClient, patch: Any, words: str
) -> None:
    pid = (await api.post("/personas", json={"persona_name": "P", "layers": {"llm": {}}})).json()[
        "persona_id"
    ]
    response = await api.patch(f"/personas/{pid}", json=patch)
    assert response.status_code == 400
    assert words in response.json()["error"]
    assert (await api.get(f"/personas/{pid}")).json()["data"][0]["persona_name"] == "P"


@pytest.mark.parametrize(
    ("patch", "words"),
    [
        ([{"op": "replace", "path": "/persona_name"}], "value"),
        ([{"op": "rename", "path": "/persona_name", "value": "x"}], "op"),
        ([{"op": "remove", "path": "persona_name"}], "JSON Pointer"),
    ],
    ids=["no-value", "unknown-op", "not-a-pointer"],
)
async def test_a_body_that_is_not_a_json_patch_gets_422_with_tavus_message(
    api: httpx.AsyncClient, patch: Any, words: str
) -> None:
    pid = (await api.post("/personas", json={"persona_name": "P"})).json()["persona_id"]
    response = await api.patch(f"/personas/{pid}", json=patch)
    assert response.status_code == 422
    message = response.json()["message"]
    assert message.startswith("Invalid JSON patch format") and words in message


@pytest.mark.parametrize(
    "patch",
    [[], [{"op": "replace", "path": "/persona_name", "value": "P"}]],
    ids=["empty", "same-value"],
)
async def test_a_patch_that_changes_nothing_gets_304(api: httpx.AsyncClient, patch: Any) -> None:
    pid = (await api.post("/personas", json={"persona_name": "P"})).json()["persona_id"]
    before = (await api.get(f"/personas/{pid}")).json()
    response = await api.patch(f"/personas/{pid}", json=patch)
    assert response.status_code == 304
    assert (await api.get(f"/personas/{pid}")).json() == before


async def test_a_persona_field_of_the_wrong_type_gets_400_naming_it(
    api: httpx.AsyncClient,
) -> None:
    before = (await api.get("/personas")).json()["total_count"]
    response = await api.post(
        "/personas", json={"layers": {"tts": {"pronunciation_dictionary_id": {}}}}
    )
    assert response.status_code == 400
    assert "layers.tts.pronunciation_dictionary_id" in response.json()["error"]
    assert (await api.get("/personas")).json()["total_count"] == before


async def test_stock_personas_cannot_be_changed_or_deleted(api: httpx.AsyncClient) -> None:
    patched = await api.patch(
        f"/personas/{SUPPORT_PERSONA_ID}",
        json=[{"op": "replace", "path": "/persona_name", "value": "Mine"}],
    )
    deleted = await api.delete(f"/personas/{SUPPORT_PERSONA_ID}")
    assert patched.status_code == deleted.status_code == 400
    assert "Stock persona" in deleted.json()["error"]


async def test_bad_persona_bodies_get_400_naming_the_field(api: httpx.AsyncClient) -> None:
    bad_mode = await api.post("/personas", json={"pipeline_mode": "telepathy"})
    bad_tool = await api.post(
        "/personas", json={"layers": {"llm": {"tools": [{"type": "function", "function": {}}]}}}
    )
    bad_replica = await api.post("/personas", json={"default_replica_id": "r00000000000"})
    assert bad_mode.status_code == bad_tool.status_code == bad_replica.status_code == 400
    assert "pipeline_mode" in bad_mode.json()["error"]
    assert "layers.llm.tools.0.function.name" in bad_tool.json()["error"]
    assert "default_replica_id" in bad_replica.json()["error"]


async def test_a_live_conversation_keeps_its_persona_when_the_persona_changes(
    api: httpx.AsyncClient, sandbox_server: SandboxServer
) -> None:
    pid = (await api.post("/personas", json={"persona_name": "Before"})).json()["persona_id"]
    cid = (await create(api, persona_id=pid, replica_id=DEFAULT_REPLICA_ID))["conversation_id"]
    await api.patch(
        f"/personas/{pid}", json=[{"op": "replace", "path": "/persona_name", "value": "After"}]
    )
    await api.delete(f"/personas/{pid}")
    assert sandbox_server.registry.get_conversation(cid).persona.persona_name == "Before"


# --- replicas -------------------------------------------------------------------------------


async def test_stock_replicas_are_trained_and_show_the_placeholder_image(
    api: httpx.AsyncClient,
) -> None:
    listing = (await api.get("/replicas")).json()
    every = [*STOCK_REPLICA_IDS, *EXAMPLE_REPLICA_IDS]
    assert listing["total_count"] == len(every)
    assert [r["replica_id"] for r in listing["data"]] == every
    for replica in listing["data"]:
        assert replica["status"] == "completed"
        assert replica["thumbnail_video_url"] == PLACEHOLDER_THUMBNAIL

    one = await api.get(f"/replicas/{STOCK_REPLICA_IDS[1]}", params={"verbose": "true"})
    assert one.json()["replica_name"] == "Nathan"
    assert (await api.get("/replicas/r00000000000")).status_code == 404
    third_page = (await api.get("/replicas", params={"limit": 2, "page": 3})).json()
    assert [r["replica_id"] for r in third_page["data"]] == [every[4]]


# --- newer names: pals and faces ----------------------------------------------------------------


async def test_pals_are_personas_under_their_newer_names(api: httpx.AsyncClient) -> None:
    listing = (await api.get("/pals")).json()
    assert {p["pal_id"] for p in listing["data"]} >= {SUPPORT_PERSONA_ID}
    assert all("persona_id" not in p for p in listing["data"])

    created = (
        await api.post("/pals", json={"pal_name": "Guide", "default_face_id": DEFAULT_REPLICA_ID})
    ).json()
    pal_id = created["pal_id"]
    assert created["default_face_id"] == DEFAULT_REPLICA_ID

    patched = await api.patch(
        f"/pals/{pal_id}", json=[{"op": "replace", "path": "/pal_name", "value": "Tour Guide"}]
    )
    assert patched.json()["pal_name"] == "Tour Guide"
    [pal] = (await api.get(f"/pals/{pal_id}")).json()["data"]
    assert pal["pal_name"] == "Tour Guide"
    [persona] = (await api.get(f"/personas/{pal_id}")).json()["data"]
    assert persona["persona_name"] == "Tour Guide"
    assert (await api.delete(f"/pals/{pal_id}")).status_code == 204


async def test_faces_are_replicas_under_their_newer_names(api: httpx.AsyncClient) -> None:
    listing = (await api.get("/faces")).json()
    assert [f["face_id"] for f in listing["data"]] == [*STOCK_REPLICA_IDS, *EXAMPLE_REPLICA_IDS]
    face = (await api.get(f"/faces/{STOCK_REPLICA_IDS[0]}")).json()
    assert face["face_name"] == "Anna"
    assert "replica_id" not in face


# --- fault injection ---------------------------------------------------------------------------


async def test_injected_faults_answer_the_next_matching_requests_then_stop(
    api: httpx.AsyncClient, sandbox_server: SandboxServer
) -> None:
    faults = sandbox_server.registry.faults
    faults.inject("/conversations", method="GET", status=429, headers={"Retry-After": "7"})
    faults.inject("/personas*", status=503, times=2)
    faults.inject("/replicas", status=401)

    limited = await api.get("/conversations")
    assert limited.status_code == 429
    assert limited.headers["retry-after"] == "7"
    assert (await api.get("/conversations")).status_code == 200

    assert [(await api.get("/personas")).status_code for _ in range(3)] == [503, 503, 200]
    assert (await api.get("/replicas")).json() == {"message": "Invalid access token"}
    assert faults.pending == 0
    assert len(faults.requests(method="GET", path="/personas")) == 3


async def test_a_delay_fault_stalls_then_answers_normally(
    api: httpx.AsyncClient, sandbox_server: SandboxServer
) -> None:
    sandbox_server.registry.faults.inject("/replicas/*", delay=0.05)
    response = await api.get(f"/replicas/{DEFAULT_REPLICA_ID}")
    assert response.status_code == 200
    assert sandbox_server.registry.faults.pending == 0


async def test_replicas_filter_by_ids_type_and_model(api: httpx.AsyncClient) -> None:
    async def ids(**params: str) -> list[str]:
        response = await api.get("/replicas", params=params)
        assert response.status_code == 200, response.text
        return [r["replica_id"] for r in response.json()["data"]]

    wanted = f"{STOCK_REPLICA_IDS[1]},{EXAMPLE_REPLICA_IDS[0]}"
    assert await ids(replica_ids=wanted) == [STOCK_REPLICA_IDS[1], EXAMPLE_REPLICA_IDS[0]]
    assert await ids(replica_type="system") == list(STOCK_REPLICA_IDS)
    assert await ids(replica_type="user") == list(EXAMPLE_REPLICA_IDS)
    assert await ids(model_name="phoenix-4") == [EXAMPLE_REPLICA_IDS[1]]
