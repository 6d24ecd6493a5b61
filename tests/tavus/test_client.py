"""TavusClient against the sandbox's Tavus-compatible REST API, over real HTTP."""

from __future__ import annotations

import logging
from collections.abc import Callable

import httpx
import pytest

from cvi_app.sandbox.catalog import (
    ASSISTANT_PERSONA_ID,
    DEFAULT_REPLICA_ID,
    EXAMPLE_PERSONA_ID,
    PERCEPTION_PERSONA_ID,
    STOCK_REPLICA_IDS,
    SUPPORT_PERSONA_ID,
)
from cvi_app.sandbox.registry import ConversationRegistry
from cvi_app.tavus import (
    Conversation,
    ConversationCreate,
    ConversationProperties,
    PatchOperation,
    TavusAPIError,
    TavusAuthError,
    TavusClient,
    TavusConcurrencyLimitError,
    TavusError,
    TavusNotFoundError,
    TavusRateLimitError,
    TavusServerError,
    TavusTimeoutError,
    TavusTransportError,
    TavusValidationError,
)
from tests.support.servers import free_port

from .conftest import FAST_RETRIES, SandboxServer

ServeSandbox = Callable[..., SandboxServer]


def client_for(server: SandboxServer, **options: object) -> TavusClient:
    return TavusClient(
        api_key=server.api_key, base_url=server.base_url, **{**FAST_RETRIES, **options}
    )


# --- conversations --------------------------------------------------------------------------


async def test_create_get_end_and_delete_a_conversation(
    tavus: TavusClient, sandbox_server: SandboxServer
) -> None:
    created = await tavus.create_conversation(
        conversation_name="Support call",
        persona_id=SUPPORT_PERSONA_ID,
        conversational_context="The caller has order A-1001.",
        properties=ConversationProperties(max_call_duration=120),
    )
    assert isinstance(created, Conversation)
    assert created.status == "active"
    assert created.persona_id == SUPPORT_PERSONA_ID
    assert created.conversation_url == (
        f"{sandbox_server.root_url}/rooms/{created.conversation_id}"
    )
    assert created.created_at is not None and created.created_at.tzinfo is not None
    stored = sandbox_server.registry.get_conversation(created.conversation_id)
    assert stored.properties.max_call_duration == 120
    assert stored.properties.participant_absent_timeout == 300

    fetched = await tavus.get_conversation(created.conversation_id)
    assert fetched.conversation_name == "Support call"
    assert fetched.events is None

    await tavus.end_conversation(created.conversation_id)
    await tavus.end_conversation(created.conversation_id)
    ended = await tavus.get_conversation(created.conversation_id)
    assert ended.status == "ended"
    assert ended.shutdown_reason == "end_conversation_endpoint_hit"

    await tavus.delete_conversation(created.conversation_id)
    with pytest.raises(TavusNotFoundError):
        await tavus.get_conversation(created.conversation_id)


async def test_a_prepared_request_and_keywords_combine(
    tavus: TavusClient, sandbox_server: SandboxServer
) -> None:
    request = ConversationCreate(
        conversation_name="Prepared", replica_id=STOCK_REPLICA_IDS[1], audio_only=True
    )
    created = await tavus.create_conversation(request, conversation_name="Overridden")
    stored = sandbox_server.registry.get_conversation(created.conversation_id)
    assert stored.conversation_name == "Overridden"
    assert stored.replica_id == STOCK_REPLICA_IDS[1]
    assert stored.audio_only is True


async def test_list_conversations_pages_and_filters_by_status(
    tavus: TavusClient, sandbox_server: SandboxServer
) -> None:
    sandbox_server.registry.max_concurrent = 10
    ids = [(await tavus.create_conversation()).conversation_id for _ in range(4)]
    await tavus.end_conversation(ids[0])

    first = await tavus.list_conversations(limit=3, page=1)
    second = await tavus.list_conversations(limit=3, page=2)
    ended = await tavus.list_conversations(status="ended")
    active = await tavus.list_conversations(status="active")

    assert first.total_count == 4
    assert [c.conversation_id for c in first.data] == ids[:0:-1]
    assert [c.conversation_id for c in second.data] == [ids[0]]
    assert [c.conversation_id for c in ended.data] == [ids[0]]
    assert active.total_count == 3


async def test_verbose_conversation_includes_typed_events(
    tavus: TavusClient, sandbox_server: SandboxServer
) -> None:
    cid = (await tavus.create_conversation()).conversation_id
    sandbox_server.registry.record_event(
        cid,
        {
            "event_type": "system.shutdown",
            "message_type": "system",
            "timestamp": "2025-01-01T10:00:00.000Z",
            "properties": {"shutdown_reason": "max_call_duration reached"},
        },
    )
    verbose = await tavus.get_conversation(cid, verbose=True)
    assert verbose.events is not None
    [event] = verbose.events
    assert event.event_type == "system.shutdown"
    assert event.timestamp is not None and event.timestamp.hour == 10
    assert event.properties["shutdown_reason"] == "max_call_duration reached"


async def test_require_auth_gives_a_meeting_token_and_a_join_url(
    tavus: TavusClient, sandbox_server: SandboxServer
) -> None:
    created = await tavus.create_conversation(require_auth=True)
    assert created.meeting_token
    assert created.join_url == f"{created.conversation_url}?t={created.meeting_token}"
    stored = sandbox_server.registry.get_conversation(created.conversation_id)
    assert stored.token_allows(created.meeting_token)
    assert not stored.token_allows("wrong")


async def test_hard_delete_removes_the_conversation_for_good(
    tavus: TavusClient, sandbox_server: SandboxServer
) -> None:
    cid = (await tavus.create_conversation()).conversation_id
    await tavus.delete_conversation(cid, hard=True)
    assert sandbox_server.registry.list_conversations() == ([], 0)
    with pytest.raises(TavusNotFoundError):
        await tavus.delete_conversation(cid, hard=True)


# --- personas, replicas and their newer names ---------------------------------------------------


async def test_personas_list_get_create_update_delete(tavus: TavusClient) -> None:
    stock = await tavus.list_personas(persona_type="system")
    assert stock.total_count == 3
    support = await tavus.get_persona(SUPPORT_PERSONA_ID)
    assert [t.function.name for t in support.tools] == ["get_weather", "lookup_order"]
    assert (await tavus.get_persona(PERCEPTION_PERSONA_ID)).perception_enabled

    created = await tavus.create_persona(
        persona_name="Coach",
        system_prompt="You coach tennis.",
        default_replica_id=DEFAULT_REPLICA_ID,
        pipeline_mode="full",
    )
    assert created.persona_type == "user"
    mine = await tavus.list_personas(persona_type="user")
    assert [p.persona_id for p in mine.data] == [EXAMPLE_PERSONA_ID, created.persona_id]

    updated = await tavus.update_persona(
        created.persona_id,
        [
            PatchOperation(op="replace", path="/persona_name", value="Head Coach"),
            {"op": "add", "path": "/context", "value": "Clay courts."},
        ],
    )
    assert updated.persona_name == "Head Coach"
    assert updated.context == "Clay courts."
    assert (await tavus.get_persona(created.persona_id)).persona_name == "Head Coach"
    # A patch that changes nothing is answered 304 with no body: the persona as it is.
    same = await tavus.update_persona(
        created.persona_id, [{"op": "replace", "path": "/persona_name", "value": "Head Coach"}]
    )
    assert same.persona_name == "Head Coach"

    await tavus.delete_persona(created.persona_id)
    with pytest.raises(TavusNotFoundError):
        await tavus.get_persona(created.persona_id)


async def test_replicas_list_and_get(tavus: TavusClient) -> None:
    replicas = await tavus.list_replicas(limit=2, replica_type="system")
    assert replicas.total_count == 3
    assert [r.replica_id for r in replicas.data] == list(STOCK_REPLICA_IDS[:2])
    replica = await tavus.get_replica(STOCK_REPLICA_IDS[2], verbose=True)
    assert replica.replica_name == "Lucy"
    assert replica.status == "completed"
    with pytest.raises(TavusNotFoundError):
        await tavus.get_replica("r00000000000")


async def test_pals_and_faces_parse_into_personas_and_replicas(tavus: TavusClient) -> None:
    pals = await tavus.list_pals(limit=10, pal_type="system")
    assert {p.persona_id for p in pals.data} == {
        ASSISTANT_PERSONA_ID,
        SUPPORT_PERSONA_ID,
        PERCEPTION_PERSONA_ID,
    }
    pal = await tavus.get_pal(SUPPORT_PERSONA_ID)
    assert pal.persona_name == "Support Agent"
    assert pal.default_replica_id is not None
    assert [t.function.name for t in pal.tools] == ["get_weather", "lookup_order"]

    faces = await tavus.list_faces(face_type="system")
    assert [f.replica_id for f in faces.data] == list(STOCK_REPLICA_IDS)
    face = await tavus.get_face(STOCK_REPLICA_IDS[0])
    assert face.replica_name == "Anna"


async def test_conversation_with_newer_pal_and_face_ids(tavus: TavusClient) -> None:
    created = await tavus.create_conversation(
        ConversationCreate.model_validate({"pal_id": SUPPORT_PERSONA_ID, "face_id": "rf6d5b8cae03"})
    )
    assert created.persona_id == SUPPORT_PERSONA_ID
    assert created.replica_id == "rf6d5b8cae03"


# --- errors ---------------------------------------------------------------------------------


async def test_a_wrong_key_raises_auth_error_without_revealing_the_key(
    sandbox_server: SandboxServer, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "tvs-very-secret-key-123"
    caplog.set_level(logging.DEBUG)
    async with TavusClient(api_key=secret, base_url=sandbox_server.base_url) as client:
        assert secret not in repr(client)
        with pytest.raises(TavusAuthError) as caught:
            await client.list_conversations()
    error = caught.value
    assert error.status_code == 401
    assert error.message == "Invalid access token"
    assert secret not in str(error) and secret not in repr(error)
    assert secret not in caplog.text


async def test_the_key_is_redacted_even_when_the_server_echoes_it(
    sandbox_server: SandboxServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    key = sandbox_server.api_key
    sandbox_server.registry.faults.inject(
        "/conversations", status=503, body={"error": f"key {key} is throttled"}, times=2
    )
    async with client_for(sandbox_server, max_retries=1) as client:
        with pytest.raises(TavusServerError) as caught:
            await client.list_conversations()
    assert key not in str(caught.value)
    assert "key *** is throttled" in caught.value.message
    assert key not in caplog.text


async def test_unknown_ids_raise_not_found(tavus: TavusClient) -> None:
    for call in (
        tavus.get_conversation("c00000000000"),
        tavus.end_conversation("c00000000000"),
        tavus.delete_persona("p00000000000"),
        tavus.get_face("r00000000000"),
    ):
        with pytest.raises(TavusNotFoundError) as caught:
            await call
        assert caught.value.status_code == 404


async def test_a_refused_body_raises_validation_error_with_the_apis_message(
    tavus: TavusClient,
) -> None:
    with pytest.raises(TavusValidationError) as caught:
        await tavus.create_conversation(persona_id="p00000000000")
    assert caught.value.status_code == 400
    assert "persona_id" in caught.value.message
    with pytest.raises(TavusValidationError, match="Stock persona"):
        await tavus.update_persona(
            SUPPORT_PERSONA_ID, [{"op": "replace", "path": "/persona_name", "value": "x"}]
        )


async def test_bad_arguments_are_refused_before_anything_is_sent(
    tavus: TavusClient, sandbox_server: SandboxServer
) -> None:
    with pytest.raises(ValueError, match="max_call_duration"):
        await tavus.create_conversation(properties={"max_call_duration": "forever"})
    with pytest.raises(ValueError, match="value"):
        await tavus.update_persona(SUPPORT_PERSONA_ID, [{"op": "add", "path": "/context"}])
    with pytest.raises(ValueError, match="empty"):
        await tavus.get_conversation("")
    assert sandbox_server.registry.faults.requests() == []


async def test_the_concurrency_limit_raises_its_own_error(
    tavus: TavusClient, sandbox_server: SandboxServer
) -> None:
    for _ in range(sandbox_server.registry.max_concurrent):
        await tavus.create_conversation()
    with pytest.raises(TavusConcurrencyLimitError) as caught:
        await tavus.create_conversation()
    assert caught.value.status_code == 400
    assert "maximum concurrent conversations" in caught.value.message
    assert not isinstance(caught.value, TavusValidationError)


# --- retries --------------------------------------------------------------------------------


async def test_429_is_retried_after_retry_after_and_then_succeeds(
    tavus: TavusClient, sandbox_server: SandboxServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="cvi_app.tavus.client")
    faults = sandbox_server.registry.faults
    faults.inject("/conversations", method="POST", status=429, headers={"Retry-After": "1"})
    created = await tavus.create_conversation()
    assert created.status == "active"
    assert len(faults.requests(method="POST", path="/conversations")) == 2
    # It waited what Retry-After asked, not its own (much shorter) backoff.
    assert "retrying in 1.00s" in caplog.text


async def test_429_without_retries_left_carries_retry_after(
    sandbox_server: SandboxServer,
) -> None:
    sandbox_server.registry.faults.inject(
        "/personas", status=429, headers={"Retry-After": "2"}, times=5
    )
    async with client_for(sandbox_server, max_retries=0) as client:
        with pytest.raises(TavusRateLimitError) as caught:
            await client.list_personas()
    assert caught.value.retry_after == 2.0
    assert caught.value.status_code == 429


async def test_a_retry_after_longer_than_allowed_fails_at_once(
    sandbox_server: SandboxServer,
) -> None:
    faults = sandbox_server.registry.faults
    faults.inject("/personas", status=429, headers={"Retry-After": "3600"}, times=5)
    async with client_for(sandbox_server, max_retry_after=5.0) as client:
        with pytest.raises(TavusRateLimitError) as caught:
            await client.list_personas()
    assert caught.value.retry_after == 3600.0
    assert len(faults.requests(path="/personas")) == 1


async def test_5xx_is_retried_then_raises_server_error(sandbox_server: SandboxServer) -> None:
    faults = sandbox_server.registry.faults
    faults.inject("/replicas", status=500, times=10)
    async with client_for(sandbox_server, max_retries=2) as client:
        with pytest.raises(TavusServerError) as caught:
            await client.list_replicas()
    assert caught.value.status_code == 500
    assert caught.value.message == "Internal server error"
    assert len(faults.requests(path="/replicas")) == 3


async def test_a_passing_5xx_is_absorbed_by_a_retry(
    tavus: TavusClient, sandbox_server: SandboxServer
) -> None:
    sandbox_server.registry.faults.inject("/replicas/*", status=502)
    replica = await tavus.get_replica(DEFAULT_REPLICA_ID)
    assert replica.replica_id == DEFAULT_REPLICA_ID


async def test_creating_is_not_repeated_after_a_500_but_is_after_a_503(
    tavus: TavusClient, sandbox_server: SandboxServer
) -> None:
    faults = sandbox_server.registry.faults
    faults.inject("/conversations", method="POST", status=500)
    with pytest.raises(TavusServerError):
        await tavus.create_conversation()
    assert len(faults.requests(method="POST")) == 1

    faults.inject("/conversations", method="POST", status=503)
    await tavus.create_conversation()
    assert len(faults.requests(method="POST")) == 3
    assert sandbox_server.registry.list_conversations()[1] == 1


async def test_other_4xx_are_not_retried(tavus: TavusClient, sandbox_server: SandboxServer) -> None:
    faults = sandbox_server.registry.faults
    faults.inject("/personas", status=401, times=5)
    with pytest.raises(TavusAuthError):
        await tavus.list_personas()
    assert len(faults.requests(path="/personas")) == 1


async def test_a_slow_answer_raises_timeout_error(sandbox_server: SandboxServer) -> None:
    faults = sandbox_server.registry.faults
    faults.inject("/conversations/*", delay=1.0)
    async with client_for(sandbox_server, timeout=0.2) as client:
        with pytest.raises(TavusTimeoutError) as caught:
            await client.get_conversation("c00000000000")
    assert isinstance(caught.value.__cause__, httpx.TimeoutException)
    assert len(faults.requests(path="/conversations/*")) == 1


async def test_an_unreachable_api_raises_transport_error_after_retries() -> None:
    async with TavusClient(
        api_key="k", base_url=f"http://127.0.0.1:{free_port()}/v2", max_retries=2, **FAST_RETRIES
    ) as client:
        with pytest.raises(TavusTransportError) as caught:
            await client.list_replicas()
    assert isinstance(caught.value.__cause__, httpx.ConnectError)
    assert not isinstance(caught.value, TavusAPIError)


# --- lifecycle ------------------------------------------------------------------------------


async def test_closing_is_idempotent_and_a_closed_client_refuses_requests(
    sandbox_server: SandboxServer,
) -> None:
    client = client_for(sandbox_server)
    await client.aclose()
    await client.aclose()
    with pytest.raises(TavusError, match="closed"):
        await client.list_replicas()


async def test_an_injected_http_client_is_used_and_left_open(
    sandbox_server: SandboxServer,
) -> None:
    async with httpx.AsyncClient() as http:
        async with TavusClient(
            api_key=sandbox_server.api_key, base_url=sandbox_server.base_url, http_client=http
        ) as client:
            listing = await client.list_replicas(replica_type="system")
            assert listing.total_count == 3
        assert not http.is_closed
        assert (await http.get(f"{sandbox_server.base_url}/replicas")).status_code == 401


async def test_the_client_works_against_a_nested_sandbox_mount(
    serve_sandbox: ServeSandbox,
) -> None:
    server = serve_sandbox(
        ConversationRegistry(api_key="nested-key"), prefix="/sandbox", api_key="nested-key"
    )
    async with client_for(server) as client:
        created = await client.create_conversation()
    assert created.conversation_url == (
        f"{server.root_url}/sandbox/rooms/{created.conversation_id}"
    )


def test_constructor_refuses_unusable_settings() -> None:
    with pytest.raises(ValueError, match="api_key"):
        TavusClient(api_key=" ")
    with pytest.raises(ValueError, match="base_url"):
        TavusClient(api_key="k", base_url="tavusapi.com/v2")
    with pytest.raises(ValueError, match="max_retries"):
        TavusClient(api_key="k", max_retries=-1)
