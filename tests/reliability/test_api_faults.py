"""Tavus API faults at `SessionManager.start_conversation`, switched on per test in the sandbox.

Each fault must give the person one clear sentence naming the problem, and leave nothing
half-made: no live session, no stray record in the store, no conversation left running at the
API. Once the fault is gone, the next start works.
"""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import Engine

from cvi_app.live.manager import SessionManager, StartOptions
from cvi_app.presentation.errors import describe_error
from cvi_app.sandbox.registry import CONCURRENCY_LIMIT_MESSAGE
from cvi_app.tavus.errors import (
    TavusAuthError,
    TavusConcurrencyLimitError,
    TavusError,
    TavusRateLimitError,
    TavusServerError,
    TavusTimeoutError,
)
from tests.reliability.conftest import API_TIMEOUT, stored_conversations
from tests.support.sandbox import LiveSandbox
from tests.support.servers import wait_for

OWNER = "tab-a"


async def start(manager: SessionManager) -> str:
    conversation = await manager.start_conversation(owner=OWNER, options=StartOptions())
    return conversation.conversation_id


async def active_at_api(sandbox: LiveSandbox) -> list[str]:
    response = await sandbox.api.get("/v2/conversations", params={"status": "active"})
    return [c["conversation_id"] for c in response.json()["data"]]


def creates(sandbox: LiveSandbox) -> int:
    return len(sandbox.parts.registry.faults.requests(method="POST", path="/conversations"))


async def assert_nothing_left(
    manager: SessionManager, sandbox: LiveSandbox, engine: Engine
) -> None:
    assert await manager.live_conversations(owner=OWNER) == []
    assert stored_conversations(engine) == []
    assert await active_at_api(sandbox) == []


async def assert_next_start_works(manager: SessionManager, sandbox: LiveSandbox) -> None:
    cid = await start(manager)
    assert manager.session_for(cid, owner=OWNER).status == "live"
    assert await active_at_api(sandbox) == [cid]


async def test_a_refused_api_key_is_named_and_nothing_is_started(
    manager: SessionManager, mounted_sandbox: LiveSandbox, engine: Engine
) -> None:
    mounted_sandbox.parts.registry.faults.inject("/conversations", method="POST", status=401)

    with pytest.raises(TavusAuthError) as refused:
        await start(manager)

    message = describe_error(refused.value)
    assert message.startswith("The Tavus API did not accept the API key (HTTP 401")
    assert "Invalid access token" in message and message.endswith(".")
    assert creates(mounted_sandbox) == 1  # a refused key is not retried
    await assert_nothing_left(manager, mounted_sandbox, engine)
    await assert_next_start_works(manager, mounted_sandbox)


async def test_the_concurrency_limit_tells_the_person_to_end_a_conversation(
    manager: SessionManager, mounted_sandbox: LiveSandbox, engine: Engine
) -> None:
    mounted_sandbox.parts.registry.faults.inject(
        "/conversations", method="POST", status=400, body={"error": CONCURRENCY_LIMIT_MESSAGE}
    )

    with pytest.raises(TavusConcurrencyLimitError) as refused:
        await start(manager)

    message = describe_error(refused.value)
    assert "maximum number of concurrent conversations" in message
    assert "end one and try again" in message and CONCURRENCY_LIMIT_MESSAGE in message
    await assert_nothing_left(manager, mounted_sandbox, engine)
    await assert_next_start_works(manager, mounted_sandbox)


async def test_a_rate_limit_with_retry_after_is_waited_out_and_the_start_succeeds(
    manager: SessionManager,
    mounted_sandbox: LiveSandbox,
    engine: Engine,
    caplog: pytest.LogCaptureFixture,
) -> None:
    mounted_sandbox.parts.registry.faults.inject(
        "/conversations", method="POST", status=429, headers={"Retry-After": "1"}
    )

    with caplog.at_level(logging.WARNING, logger="cvi_app.tavus.client"):
        cid = await start(manager)

    assert creates(mounted_sandbox) == 2
    assert "retrying in 1.00s" in caplog.text  # the API's Retry-After was honoured
    assert manager.session_for(cid, owner=OWNER).status == "live"
    assert [row.conversation_id for row in stored_conversations(engine)] == [cid]
    assert await active_at_api(mounted_sandbox) == [cid]


async def test_a_rate_limit_that_outlasts_the_retries_says_when_to_try_again(
    manager: SessionManager, mounted_sandbox: LiveSandbox, engine: Engine
) -> None:
    mounted_sandbox.parts.registry.faults.inject(
        "/conversations", method="POST", status=429, headers={"Retry-After": "0.2"}, times=10
    )

    with pytest.raises(TavusRateLimitError) as limited:
        await start(manager)

    assert describe_error(limited.value) == (
        "The Tavus API is limiting how often it may be called; try again in 0.2 s."
    )
    assert creates(mounted_sandbox) == 4  # the first try and three retries
    mounted_sandbox.parts.registry.faults.clear()
    await assert_nothing_left(manager, mounted_sandbox, engine)
    await assert_next_start_works(manager, mounted_sandbox)


async def test_a_server_error_on_create_is_reported_and_not_blindly_repeated(
    manager: SessionManager, mounted_sandbox: LiveSandbox, engine: Engine
) -> None:
    mounted_sandbox.parts.registry.faults.inject("/conversations", method="POST", status=500)

    with pytest.raises(TavusServerError) as failed:
        await start(manager)

    assert describe_error(failed.value) == (
        "The Tavus API failed on its side (HTTP 500: Internal server error); try again in a moment."
    )
    # A 500 may come after the conversation was made: repeating the POST could make two.
    assert creates(mounted_sandbox) == 1
    await assert_nothing_left(manager, mounted_sandbox, engine)
    await assert_next_start_works(manager, mounted_sandbox)


async def test_a_gateway_error_is_retried_and_the_start_succeeds(
    manager: SessionManager, mounted_sandbox: LiveSandbox, engine: Engine
) -> None:
    mounted_sandbox.parts.registry.faults.inject("/conversations", method="POST", status=503)

    cid = await start(manager)

    assert creates(mounted_sandbox) == 2
    assert [row.conversation_id for row in stored_conversations(engine)] == [cid]
    assert await active_at_api(mounted_sandbox) == [cid]


async def test_a_create_slower_than_the_timeout_is_reported_and_its_late_conversation_ended(
    manager: SessionManager, mounted_sandbox: LiveSandbox, engine: Engine
) -> None:
    # The API stalls past the app's timeout, then creates the conversation anyway.
    mounted_sandbox.parts.registry.faults.inject(
        "/conversations", method="POST", delay=API_TIMEOUT * 2.5
    )

    with pytest.raises(TavusTimeoutError) as timed_out:
        await start(manager)

    message = describe_error(timed_out.value)
    assert message.startswith("The Tavus API did not answer in time (")
    assert f"within {API_TIMEOUT:g}s" in message and message.endswith("try again.")
    assert await manager.live_conversations(owner=OWNER) == []
    assert stored_conversations(engine) == []
    # The conversation the API made after the app gave up is found and ended, not billed on.
    registry = mounted_sandbox.parts.registry
    await wait_for(lambda: registry.list_conversations()[0], what="the late conversation")
    await wait_for(
        lambda: registry.active_conversations() == [], what="the late conversation to be ended"
    )
    [late] = registry.list_conversations()[0]
    assert late.status == "ended" and late.shutdown_reason == "end_conversation_endpoint_hit"
    await assert_next_start_works(manager, mounted_sandbox)


async def test_a_room_that_cannot_be_joined_ends_the_new_conversation_and_records_why(
    manager: SessionManager, mounted_sandbox: LiveSandbox, engine: Engine
) -> None:
    # The API answers with a conversation whose room does not exist.
    ghost = {
        "conversation_id": "c-ghost",
        "conversation_url": f"{mounted_sandbox.root_url}/sandbox/rooms/c-ghost",
        "status": "active",
    }
    faults = mounted_sandbox.parts.registry.faults
    faults.inject("/conversations", method="POST", status=200, body=ghost)

    with pytest.raises(Exception) as failed:
        await start(manager)

    message = describe_error(failed.value)
    assert message.startswith("Could not connect to the conversation's room:")
    assert "no such room" in message
    assert await manager.live_conversations(owner=OWNER) == []
    assert manager.live_session("c-ghost") is None and manager.join_url("c-ghost") == ""
    [row] = stored_conversations(engine)
    assert (row.conversation_id, row.status) == ("c-ghost", "ended")
    assert row.shutdown_reason == f"start failed: {message}"
    assert faults.requests(method="POST", path="/conversations/c-ghost/end")
    await assert_next_start_works(manager, mounted_sandbox)


def test_every_api_failure_reads_as_a_sentence() -> None:
    assert describe_error(TavusError("Unexpected Conversation in the API's answer")) == (
        "The Tavus API gave an answer the app cannot use: "
        "Unexpected Conversation in the API's answer."
    )
