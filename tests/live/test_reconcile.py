"""The start-up reconcile, at the manager level: a real standalone sandbox stands in for Tavus
(tavus mode, its REST API and WebSocket rooms), the store is a real SQLite database left as a
crashed backend leaves it (conversations recorded `active`)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine
from sqlmodel import select
from starlette.applications import Starlette

from cvi_app.config import Mode, Settings
from cvi_app.live.manager import SessionManager, StartOptions
from cvi_app.live.reconcile import (
    ALREADY_ENDED,
    NOBODY_THERE,
    reconcile_conversations,
)
from cvi_app.live.updates import EventReceived
from cvi_app.protocol import ShutdownWebhook
from cvi_app.protocol.events import ShutdownProperties
from cvi_app.store import session_scope
from cvi_app.store.conversations import get_conversation
from cvi_app.store.models import Conversation, ConversationEvent
from cvi_app.tavus import TavusClient
from cvi_app.transport import LocalTransport, RoomTransport, TransportParams
from cvi_app.webhooks import ApiAnswer, conversation_at_api, webhook_routes
from tests.live.conftest import add_conversation
from tests.support.sandbox import SANDBOX_KEY, LiveSandbox
from tests.support.servers import free_port, serve, wait_for

OWNER = "owner-of-the-call"
QUESTION = "What plans do you offer?"


def local_rooms(mode: Mode, params: TransportParams) -> RoomTransport:
    """The sandbox's WebSocket rooms stand in for Daily's."""
    return LocalTransport(params)


def tavus_settings(api_base: str, public_url: str) -> Settings:
    return Settings(  # type: ignore[call-arg]
        TAVUS_API_KEY=SANDBOX_KEY, TAVUS_API_BASE=api_base, CVI_PUBLIC_URL=public_url
    )


@pytest.fixture
async def restarted(sandbox: LiveSandbox, app_database: str) -> AsyncIterator[SessionManager]:
    """The session manager of a backend that just started, in tavus mode over the sandbox."""
    settings = tavus_settings(f"{sandbox.root_url}/v2", sandbox.root_url)
    assert settings.mode == "tavus"
    manager = SessionManager(settings)
    yield manager
    await manager.aclose()


def stored(engine: Engine, cid: str) -> Conversation:
    with session_scope(engine) as s:
        row = get_conversation(s, conversation_id=cid)
    assert row is not None
    return row


def stored_events(engine: Engine, cid: str) -> list[tuple[str, str | None]]:
    """(event type, text) of every stored event of the conversation."""
    with session_scope(engine) as s:
        rows = s.exec(select(ConversationEvent).where(ConversationEvent.conversation_id == cid))
        return [(row.event_type, row.text) for row in rows]


def left_by_a_crash(engine: Engine, conversation: dict[str, Any], **fields: Any) -> str:
    """Record a conversation as the crashed backend left it: `active`, with its owner."""
    cid = str(conversation["conversation_id"])
    fields = {"mode": "tavus", "owner_session": OWNER, **fields}
    add_conversation(engine, cid, conversation_url=conversation.get("conversation_url"), **fields)
    return cid


async def person_in(conversation: dict[str, Any]) -> LocalTransport:
    """A person's browser, still in the call's room while the backend was down."""
    person = LocalTransport(
        TransportParams(
            room_url=conversation["conversation_url"],
            meeting_token=conversation.get("meeting_token"),
            user_name="visitor",
        )
    )
    await person.join()
    return person


async def test_a_live_conversation_with_a_person_in_it_is_rejoined_and_keeps_working(
    restarted: SessionManager, sandbox: LiveSandbox, engine: Engine
) -> None:
    conversation = await sandbox.create(require_auth=True)
    cid = left_by_a_crash(engine, conversation)
    person = await person_in(conversation)
    try:
        report = await reconcile_conversations(restarted, transport_factory=local_rooms)
        assert report.rejoined == [cid]
        assert stored(engine, cid).status == "active"

        # The recorded owner controls it again; a turn gets its answer, stored once.
        session = restarted.session_for(cid, owner=OWNER)
        assert session.status == "live"
        assert restarted.join_url(cid).startswith(conversation["conversation_url"])
        feed = restarted.bus.subscribe(cid)
        await session.respond(QUESTION)
        seen: list[Any] = []

        def after_the_question() -> list[Any]:
            """What the replica said and did once it heard QUESTION (a greeting may come first)."""
            heard = next(
                (
                    i
                    for i, e in enumerate(seen)
                    if e.event_type == "conversation.utterance"
                    and e.role == "user"
                    and e.properties.speech == QUESTION
                ),
                None,
            )
            return [] if heard is None else seen[heard + 1 :]

        def turn_over() -> bool:
            seen.extend(u.event for u in feed.drain() if isinstance(u, EventReceived))
            return any(
                e.event_type == "conversation.replica.stopped_speaking"
                for e in after_the_question()
            )

        await wait_for(turn_over, what="the replica to answer QUESTION and stop speaking")
        answers = [
            e.properties.speech
            for e in after_the_question()
            if e.event_type == "conversation.utterance" and e.role != "user"
        ]
        assert answers
        await session.recorder.flush()
        events = stored_events(engine, cid)
        assert events.count(("conversation.respond", QUESTION)) == 1
        assert events.count(("conversation.utterance", answers[0])) == 1

        # A second reconcile (say the task ran twice) changes and stores nothing.
        before = len(stored_events(engine, cid))
        again = await reconcile_conversations(restarted, transport_factory=local_rooms)
        assert (again.rejoined, again.ended, again.left_active) == ([], [], [])
        await session.recorder.flush()
        assert restarted.live_session(cid) is session
        assert len(stored_events(engine, cid)) == before
    finally:
        await person.leave()


async def test_a_live_conversation_nobody_is_in_is_ended_at_the_api_with_a_reason(
    restarted: SessionManager, sandbox: LiveSandbox, engine: Engine
) -> None:
    conversation = await sandbox.create(require_auth=True)
    cid = left_by_a_crash(engine, conversation)
    report = await reconcile_conversations(restarted, transport_factory=local_rooms)
    assert report.ended == [cid]
    at_api = await sandbox.api.get(f"/v2/conversations/{cid}")
    assert at_api.json()["status"] == "ended"
    row = stored(engine, cid)
    assert (row.status, row.shutdown_reason) == ("ended", NOBODY_THERE)
    assert row.ended_at is not None
    assert restarted.live_session(cid) is None


async def test_a_conversation_the_api_does_not_know_is_recorded_ended(
    restarted: SessionManager, engine: Engine
) -> None:
    cid = left_by_a_crash(engine, {"conversation_id": "c-gone-with-the-old-sandbox"})
    report = await reconcile_conversations(restarted, transport_factory=local_rooms)
    assert report.ended == [cid]
    row = stored(engine, cid)
    assert (row.status, row.shutdown_reason) == ("ended", ALREADY_ENDED)
    assert row.ended_at is not None


async def test_a_conversation_that_ended_while_the_backend_was_down_gets_the_apis_reason(
    restarted: SessionManager, sandbox: LiveSandbox, engine: Engine
) -> None:
    conversation = await sandbox.create()
    cid = left_by_a_crash(engine, conversation)
    await sandbox.end(cid)
    await reconcile_conversations(restarted, transport_factory=local_rooms)
    api_reason = (await sandbox.api.get(f"/v2/conversations/{cid}")).json()["shutdown_reason"]
    row = stored(engine, cid)
    assert (row.status, row.shutdown_reason) == ("ended", api_reason)


async def test_when_the_api_cannot_be_reached_the_record_waits_for_the_next_start(
    sandbox: LiveSandbox,
    app_database: str,
    engine: Engine,
    caplog: pytest.LogCaptureFixture,
) -> None:
    conversation = await sandbox.create()
    cid = left_by_a_crash(engine, conversation)
    nowhere = f"http://127.0.0.1:{free_port()}/v2"
    unreachable = SessionManager(tavus_settings(nowhere, sandbox.root_url), api_timeout=1)
    with caplog.at_level(logging.WARNING, logger="cvi_app.live.reconcile"):
        report = await reconcile_conversations(unreachable, transport_factory=local_rooms)
    await unreachable.aclose()
    assert report.left_active == [cid]
    row = stored(engine, cid)
    assert (row.status, row.ended_at, row.shutdown_reason) == ("active", None, None)
    assert "could not be asked" in caplog.text

    # The next start reaches the API and settles it.
    manager = SessionManager(tavus_settings(f"{sandbox.root_url}/v2", sandbox.root_url))
    try:
        assert (await reconcile_conversations(manager, transport_factory=local_rooms)).ended == [
            cid
        ]
    finally:
        await manager.aclose()
    assert stored(engine, cid).status == "ended"


async def test_conversations_of_the_other_mode_are_left_to_that_mode(
    restarted: SessionManager, engine: Engine
) -> None:
    cid = left_by_a_crash(engine, {"conversation_id": "c-sandbox-mode"}, mode="sandbox")
    report = await reconcile_conversations(restarted, transport_factory=local_rooms)
    assert cid not in report.ended + report.rejoined + report.left_active
    assert stored(engine, cid).status == "active"


# ---- the end of a live session, and webhooks (item 3) ----------------------------------------


async def test_an_end_the_api_confirmed_closes_the_live_session_with_its_reason(
    manager: SessionManager, engine: Engine
) -> None:
    conversation = await manager.start_conversation(owner=OWNER, options=StartOptions())
    cid = conversation.conversation_id
    assert await manager.close_ended(cid, reason="max_call_duration reached")
    assert manager.live_session(cid) is None
    row = stored(engine, cid)
    assert (row.status, row.shutdown_reason) == ("ended", "max_call_duration reached")
    assert not await manager.close_ended(cid, reason="again")


async def test_the_sessions_own_end_corrects_a_reason_a_webhook_gave(
    open_session: Any, sandbox: LiveSandbox, engine: Engine
) -> None:
    # A room the API does not know: a forged shutdown for it is applied with its own reason
    # (there is no better one), until the session ends and records what it saw.
    live = await open_session(bare_room="c-room-only")

    async def verify(cid: str) -> ApiAnswer:
        async with TavusClient(api_key=SANDBOX_KEY, base_url=f"{sandbox.root_url}/v2") as client:
            return await conversation_at_api(client, cid)

    settings = Settings(  # type: ignore[call-arg]
        CVI_WEBHOOK_SECRET="reconcile-test-secret-0123456789", CVI_PUBLIC_URL=sandbox.root_url
    )
    routes = webhook_routes(settings=settings, engine_factory=lambda: engine, verify_end=verify)
    forged = ShutdownWebhook(
        conversation_id=live.cid,
        properties=ShutdownProperties(shutdown_reason="an attacker says it ended"),
    )
    async with serve(Starlette(routes=routes), lifespan="off") as url:
        async with httpx.AsyncClient(base_url=url) as client:
            response = await client.post(
                "/api/webhooks/tavus/reconcile-test-secret-0123456789", json=forged.to_message()
            )
    assert response.status_code == 200
    assert stored(engine, live.cid).shutdown_reason == "an attacker says it ended"
    await live.session.close("everyone left the call")
    assert stored(engine, live.cid).shutdown_reason == "everyone left the call"
