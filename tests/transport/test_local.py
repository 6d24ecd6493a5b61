"""LocalTransport against the real sandbox (REST API, rooms, simulated replica), served by uvicorn
on a free 127.0.0.1 port and reached over real HTTP and WebSocket connections."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket

from cvi_app.protocol import respond
from cvi_app.sandbox.app import Sandbox, create_sandbox_app, sandbox_of
from cvi_app.sandbox.rooms import RoomHub
from cvi_app.sandbox.user_speech import UserSpeech
from cvi_app.transport import (
    JoinError,
    LocalTransport,
    MessageTooLargeError,
    NotJoinedError,
    Participant,
    SendError,
    TransportParams,
    create_transport,
    room_socket_url,
)
from tests.support.servers import free_port, serve, wait_for

CID = "c-transport"
"""A bare room (no replica) opened directly on the sandbox's hub."""


@dataclass
class SandboxServer:
    """The running sandbox: its parts, its root URL and a REST client for it."""

    parts: Sandbox
    root_url: str
    api: httpx.AsyncClient

    @property
    def hub(self) -> RoomHub:
        return self.parts.hub

    def room_url(self, conversation_id: str = CID) -> str:
        return f"{self.root_url}/rooms/{conversation_id}"

    async def create_conversation(self, **body: Any) -> dict[str, Any]:
        response = await self.api.post("/v2/conversations", json=body)
        response.raise_for_status()
        conversation: dict[str, Any] = response.json()
        return conversation

    async def end_conversation(self, conversation_id: str) -> None:
        response = await self.api.post(f"/v2/conversations/{conversation_id}/end")
        response.raise_for_status()


@pytest.fixture
async def sandbox() -> AsyncIterator[SandboxServer]:
    app = create_sandbox_app(api_key="test", words_per_second=1000)
    parts = sandbox_of(app)
    parts.hub.open(CID)
    async with serve(app) as root_url:
        async with httpx.AsyncClient(base_url=root_url, headers={"x-api-key": "test"}) as api:
            yield SandboxServer(parts, root_url, api)


@dataclass
class Seen:
    """What one transport's handlers received."""

    messages: list[tuple[dict[str, Any], str]] = field(default_factory=list)
    joined: list[Participant] = field(default_factory=list)
    left: list[Participant] = field(default_factory=list)
    closed: list[str] = field(default_factory=list)


def watched(url: str, user_name: str, token: str | None = None) -> tuple[LocalTransport, Seen]:
    transport = LocalTransport(
        TransportParams(room_url=url, user_name=user_name, meeting_token=token)
    )
    seen = Seen()

    async def on_message(data: dict[str, Any], sender: str) -> None:
        seen.messages.append((data, sender))

    async def on_joined(participant: Participant) -> None:
        seen.joined.append(participant)

    async def on_left(participant: Participant) -> None:
        seen.left.append(participant)

    async def on_closed(reason: str) -> None:
        seen.closed.append(reason)

    transport.on_app_message(on_message)
    transport.on_participant_joined(on_joined)
    transport.on_participant_left(on_left)
    transport.on_closed(on_closed)
    return transport, seen


@contextlib.asynccontextmanager
async def joined(
    url: str, *names: str
) -> AsyncIterator[list[tuple[LocalTransport, Seen, Participant]]]:
    members = []
    try:
        for name in names:
            transport, seen = watched(url, name)
            members.append((transport, seen, await transport.join()))
        yield members
    finally:
        for transport, _, _ in members:
            await transport.leave()


def test_room_socket_url_turns_the_conversation_url_into_its_websocket() -> None:
    url = room_socket_url("https://example.test/rooms/c1/", user_name="Ann Lee", token="t 1")
    assert url == "wss://example.test/rooms/c1/ws?user_name=Ann+Lee&t=t+1"
    assert room_socket_url("http://h:8/rooms/c1", user_name="a").startswith("ws://h:8/")


async def test_joining_reports_self_and_who_is_already_there(sandbox: SandboxServer) -> None:
    async with joined(sandbox.room_url(), "alice", "bob") as [(alice, a_seen, a), (bob, b_seen, b)]:
        assert a.user_name == "alice" and not a.is_replica
        assert alice.local_participant == a
        await wait_for(lambda: [p.id for p in b_seen.joined] == [a.id])
        await wait_for(lambda: [p.id for p in a_seen.joined] == [b.id])
        assert set(alice.participants()) == set(bob.participants()) == {a.id, b.id}


async def test_broadcast_reaches_everyone_else_but_never_the_sender(sandbox: SandboxServer) -> None:
    async with joined(sandbox.room_url(), "alice", "bob", "carol") as members:
        (alice, a_seen, a), (bob, b_seen, b), (_, c_seen, _) = members
        await alice.send({"n": 1})
        await wait_for(lambda: b_seen.messages and c_seen.messages)
        assert b_seen.messages == c_seen.messages == [({"n": 1}, a.id)]
        # Bob answers only after he got it: had Alice been sent her own message, it came first.
        await bob.send({"n": 2}, to=a.id)
        await wait_for(lambda: a_seen.messages != [])
        assert a_seen.messages == [({"n": 2}, b.id)]


async def test_a_message_to_one_participant_reaches_only_them(sandbox: SandboxServer) -> None:
    async with joined(sandbox.room_url(), "alice", "bob", "carol") as members:
        (alice, _, _), (_, b_seen, _), (carol, c_seen, c) = members
        await alice.send({"for": "carol"}, to=c.id)
        await wait_for(lambda: c_seen.messages != [])
        await carol.send({"done": True})  # a barrier: Bob gets it after anything sent before
        await wait_for(lambda: b_seen.messages != [])
        assert b_seen.messages == [({"done": True}, c.id)]


def replica_events(seen: Seen, transport: LocalTransport) -> list[str]:
    return [data["event_type"] for data, sender in seen.messages if transport.is_replica(sender)]


async def test_the_simulated_replica_is_trusted_and_other_participants_are_not(
    sandbox: SandboxServer,
) -> None:
    conversation = await sandbox.create_conversation(require_auth=True)
    url, token = conversation["conversation_url"], conversation["meeting_token"]
    app, seen = watched(url, "app", token)
    mallory, _ = watched(url, "mallory", token)
    await app.join()
    m = await mallory.join()
    try:
        await wait_for(lambda: any(p.is_replica for p in seen.joined))
        [replica] = [p for p in app.participants().values() if p.is_replica]
        assert "tavus-replica" in (replica.user_id or "")
        await mallory.send({"event_type": "conversation.utterance", "properties": {}})
        await wait_for(lambda: any(sender == m.id for _, sender in seen.messages))
        await wait_for(lambda: "conversation.replica.stopped_speaking" in replica_events(seen, app))
        senders = {sender: app.is_replica(sender) for _, sender in seen.messages}
        assert senders == {replica.id: True, m.id: False}
    finally:
        await mallory.leave()
        await app.leave()


async def test_the_replica_answers_what_we_say(sandbox: SandboxServer) -> None:
    conversation = await sandbox.create_conversation()
    app, seen = watched(conversation["conversation_url"], "app")
    await app.join()
    try:
        greeting_done = "conversation.replica.stopped_speaking"
        await wait_for(lambda: greeting_done in replica_events(seen, app))
        seen.messages.clear()
        speech = UserSpeech.build("Hello there", conversation_id=conversation["conversation_id"])
        await app.send(speech.to_message())
        await wait_for(lambda: greeting_done in replica_events(seen, app))
        kinds = replica_events(seen, app)
        assert kinds[0] == "conversation.user.started_speaking"
        assert "conversation.replica.started_speaking" in kinds
        replies = [
            data["properties"]["speech"]
            for data, _ in seen.messages
            if data["event_type"] == "conversation.utterance"
            and data["properties"]["role"] == "replica"
        ]
        assert replies and replies[0].strip()
    finally:
        await app.leave()


async def test_someone_leaving_is_reported(sandbox: SandboxServer) -> None:
    async with joined(sandbox.room_url(), "alice", "bob") as [(alice, a_seen, _), (bob, _, b)]:
        await bob.leave()
        await wait_for(lambda: [p.id for p in a_seen.left] == [b.id])
        assert b.id not in alice.participants()


async def test_leave_is_safe_twice_and_is_not_reported_as_closed(sandbox: SandboxServer) -> None:
    transport, seen = watched(sandbox.room_url(), "alice")
    await transport.join()
    await asyncio.gather(transport.leave(), transport.leave())
    await transport.leave()
    with pytest.raises(NotJoinedError):
        await transport.send({"n": 1})
    assert seen.closed == []


async def test_ending_the_conversation_reports_closed_once_with_its_reason(
    sandbox: SandboxServer,
) -> None:
    conversation = await sandbox.create_conversation()
    transport, seen = watched(conversation["conversation_url"], "app")
    await transport.join()
    await sandbox.end_conversation(conversation["conversation_id"])
    await wait_for(lambda: seen.closed != [])
    await transport.wait_handlers()
    assert seen.closed == ["end_conversation_endpoint_hit"]
    with pytest.raises(NotJoinedError):
        await transport.send({"n": 1})
    await transport.leave()
    assert seen.closed == ["end_conversation_endpoint_hit"]


async def test_a_closed_room_is_reported_even_without_a_conversation(
    sandbox: SandboxServer,
) -> None:
    transport, seen = watched(sandbox.room_url(), "alice")
    await transport.join()
    await sandbox.hub.close(CID, "room deleted")
    await wait_for(lambda: seen.closed != [])
    assert seen.closed == ["room deleted"]
    await transport.leave()


async def test_join_is_refused_without_the_meeting_token(sandbox: SandboxServer) -> None:
    sandbox.hub.open("c-private", meeting_token="secret")
    url = sandbox.room_url("c-private")
    with pytest.raises(JoinError, match="meeting token"):
        await LocalTransport(TransportParams(room_url=url, meeting_token="wrong")).join()
    transport = LocalTransport(TransportParams(room_url=url, meeting_token="secret"))
    assert (await transport.join()).id
    await transport.leave()


async def test_join_fails_clearly_for_a_missing_room_or_server(sandbox: SandboxServer) -> None:
    with pytest.raises(JoinError, match="no such room"):
        await LocalTransport(TransportParams(room_url=sandbox.room_url("c-none"))).join()
    dead = f"http://127.0.0.1:{free_port()}/rooms/{CID}"
    with pytest.raises(JoinError, match="could not connect"):
        await LocalTransport(TransportParams(room_url=dead)).join()


async def test_an_interaction_arrives_as_the_message_it_was_built_as(
    sandbox: SandboxServer,
) -> None:
    interaction = respond(CID, 'Hé, "what" time\nis it?')
    async with joined(sandbox.room_url(), "alice", "bob") as [(alice, _, _), (_, b_seen, b)]:
        await alice.send(interaction, to=b.id)
        await wait_for(lambda: b_seen.messages != [])
    [(data, _)] = b_seen.messages
    assert data == interaction.to_message()


async def test_a_message_that_is_not_json_is_refused_before_it_is_sent(
    sandbox: SandboxServer,
) -> None:
    async with joined(sandbox.room_url(), "alice") as [(alice, _, _)]:
        for data in ({"when": object()}, {"n": float("nan")}):
            with pytest.raises(SendError, match="not JSON-serialisable"):
                await alice.send(data)


async def test_an_oversized_message_is_refused_before_it_is_sent(sandbox: SandboxServer) -> None:
    async with joined(sandbox.room_url(), "alice", "bob") as [(alice, _, _), (_, b_seen, _)]:
        with pytest.raises(MessageTooLargeError, match="4096"):
            await alice.send({"text": "x" * 5000})
        await alice.send({"n": 1})
        await wait_for(lambda: b_seen.messages != [])
        assert [data for data, _ in b_seen.messages] == [{"n": 1}]


async def test_a_message_to_nobody_is_refused_by_the_room_and_the_call_goes_on(
    sandbox: SandboxServer, caplog: pytest.LogCaptureFixture
) -> None:
    async with joined(sandbox.room_url(), "alice", "bob") as [(alice, _, _), (_, b_seen, _)]:
        with caplog.at_level(logging.WARNING, logger="cvi_app.transport.local"):
            await alice.send({"n": 1}, to="nobody")
            await wait_for(lambda: "no participant 'nobody'" in caplog.text)
        await alice.send({"n": 2})
        await wait_for(lambda: b_seen.messages != [])
        assert [data for data, _ in b_seen.messages] == [{"n": 2}]


async def test_frames_that_do_not_fit_the_schema_are_dropped(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def rogue_room(websocket: WebSocket) -> None:
        await websocket.accept()
        me = {"id": "me", "user_id": "me", "user_name": "alice", "is_replica": False}
        await websocket.send_json(
            {"type": "joined", "conversation_id": CID, "participant": me, "participants": []}
        )
        await websocket.send_text("not json")
        await websocket.send_json({"type": "app-message", "data": "not an object", "fromId": "x"})
        await websocket.send_json({"type": "teleport"})
        await websocket.send_json({"type": "app-message", "data": {"ok": True}, "fromId": "x"})
        await websocket.receive()

    app = Starlette(routes=[WebSocketRoute("/rooms/{cid}/ws", rogue_room)])
    async with serve(app) as root_url:
        transport, seen = watched(f"{root_url}/rooms/{CID}", "alice")
        with caplog.at_level(logging.WARNING, logger="cvi_app.transport.local"):
            await transport.join()
            await wait_for(lambda: seen.messages != [])
        await transport.leave()
    assert seen.messages == [({"ok": True}, "x")]
    assert len([r for r in caplog.records if "dropped a bad frame" in r.getMessage()]) == 3


def test_create_transport_picks_the_local_room_in_sandbox_mode() -> None:
    transport = create_transport("sandbox", TransportParams(room_url="http://h/rooms/c"))
    assert isinstance(transport, LocalTransport)
