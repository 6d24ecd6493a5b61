"""The room hub over real WebSockets: routing, limits, bad frames, auth, presence, closing."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from starlette.applications import Starlette
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from cvi_app.sandbox import rooms
from cvi_app.sandbox.room_routes import room_routes
from cvi_app.sandbox.rooms import (
    MessageTooLargeError,
    RoomClosedError,
    RoomHub,
    UnknownParticipantError,
)
from tests.sandbox.helpers import room_client
from tests.support.servers import WAIT, serve, wait_for

ROOM = "c0a1b2c3d4e"


@pytest.fixture
def hub() -> RoomHub:
    return RoomHub()


@pytest.fixture
async def base_url(hub: RoomHub) -> AsyncIterator[str]:
    async with serve(Starlette(routes=room_routes(hub))) as url:
        yield url
    await hub.close_all("test over")


async def test_joiner_learns_its_id_and_who_is_there_and_others_see_it_join(
    hub: RoomHub, base_url: str
) -> None:
    hub.open(ROOM)
    async with room_client(base_url, ROOM, user_name="ada") as ada:
        assert ada.me is not None and ada.me["user_name"] == "ada"
        assert ada.participants == []
        async with room_client(base_url, ROOM, user_name="bob") as bob:
            assert [p["user_name"] for p in bob.participants] == ["ada"]
            seen = await ada.recv_type("participant-joined")
            assert seen["participant"]["id"] == bob.id
            assert seen["participant"]["is_replica"] is False
        left = await ada.recv_type("participant-left")
        assert left["participant"]["id"] == bob.id


async def test_broadcast_reaches_everyone_else_but_never_the_sender(
    hub: RoomHub, base_url: str
) -> None:
    hub.open(ROOM)
    async with (
        room_client(base_url, ROOM, user_name="ada") as ada,
        room_client(base_url, ROOM, user_name="bob") as bob,
    ):
        await ada.send({"hello": "all"})
        frame = await bob.recv_type("app-message")
        assert frame == {"type": "app-message", "data": {"hello": "all"}, "fromId": ada.id}
        # Bob answers only after he got it, so had Ada got her own message it would come first.
        await bob.send({"reply": 1}, to=ada.id)
        assert await ada.next_event() == {"reply": 1}


async def test_message_to_one_participant_reaches_only_that_participant(
    hub: RoomHub, base_url: str
) -> None:
    hub.open(ROOM)
    async with (
        room_client(base_url, ROOM, user_name="ada") as ada,
        room_client(base_url, ROOM, user_name="bob") as bob,
        room_client(base_url, ROOM, user_name="cy") as cy,
    ):
        await ada.send({"secret": "for bob"}, to=bob.id)
        assert await bob.next_event() == {"secret": "for bob"}
        await ada.send({"marker": True})
        assert await cy.next_event() == {"marker": True}


async def test_in_process_participant_talks_with_websocket_clients(
    hub: RoomHub, base_url: str
) -> None:
    room = hub.open(ROOM)
    received: list[tuple[dict[str, Any], str]] = []
    joined: list[str] = []
    server_side = await room.join(
        user_name="app",
        on_app_message=lambda data, sender: received.append((data, sender)),
        on_participant_joined=lambda participant: joined.append(participant.user_name),
    )
    async with room_client(base_url, ROOM, user_name="ada") as ada:
        assert [p["user_name"] for p in ada.participants] == ["app"]
        await wait_for(lambda: joined == ["ada"], what="the app to see ada join")
        await ada.send({"from": "browser"})
        await wait_for(lambda: received, what="the app to receive the message")
        assert received == [({"from": "browser"}, ada.id)]
        assert await server_side.send({"from": "server"}) == 1
        frame = await ada.recv_type("app-message")
        assert frame["data"] == {"from": "server"} and frame["fromId"] == server_side.id
        await server_side.leave()
        left = await ada.recv_type("participant-left")
        assert left["participant"]["id"] == server_side.id


async def test_oversize_message_is_refused_with_an_error_and_the_connection_stays_up(
    hub: RoomHub, base_url: str
) -> None:
    hub.open(ROOM)
    async with (
        room_client(base_url, ROOM, user_name="ada") as ada,
        room_client(base_url, ROOM, user_name="bob") as bob,
    ):
        await ada.send({"text": "x" * 4100})
        error = await ada.recv_type("error")
        assert "4096" in error["reason"]
        await ada.send({"text": "small"})
        assert await bob.next_event() == {"text": "small"}


@pytest.mark.parametrize(
    ("frame", "reason"),
    [
        ("this is not json", "not valid JSON"),
        ({"type": "dance"}, "unknown frame type"),
        ({"type": "app-message", "to": "*"}, "data"),
        ({"type": "app-message", "data": "a string"}, "data"),
        ({"type": "app-message", "data": {}, "to": "nobody-here"}, "no participant"),
    ],
)
async def test_bad_frame_gets_an_error_frame_and_the_connection_stays_up(
    hub: RoomHub, base_url: str, frame: Any, reason: str
) -> None:
    hub.open(ROOM)
    async with (
        room_client(base_url, ROOM, user_name="ada") as ada,
        room_client(base_url, ROOM, user_name="bob") as bob,
    ):
        await ada.send_frame(frame)
        error = await ada.recv_type("error")
        assert reason in error["reason"]
        await ada.send({"still": "here"})
        assert await bob.next_event() == {"still": "here"}


async def test_room_with_a_meeting_token_admits_only_clients_that_present_it(
    hub: RoomHub, base_url: str
) -> None:
    hub.open(ROOM, meeting_token="s3cret-token")
    for token in (None, "wrong"):
        async with room_client(base_url, ROOM, token=token, expect_joined=False) as intruder:
            error = await intruder.recv()
            assert error["type"] == "error" and "meeting token" in error["reason"]
            assert (await intruder.closed())[0] == 4401
    async with room_client(base_url, ROOM, token="s3cret-token") as guest:
        assert guest.me is not None


async def test_unknown_room_is_refused(base_url: str) -> None:
    async with room_client(base_url, "cnope", expect_joined=False) as client:
        assert (await client.recv())["type"] == "error"
        assert (await client.closed())[0] == 4404


async def test_replica_name_is_reserved_for_the_replica(hub: RoomHub, base_url: str) -> None:
    hub.open(ROOM)
    async with room_client(
        base_url, ROOM, user_name="Tavus-Replica", expect_joined=False
    ) as impostor:
        assert "reserved" in (await impostor.recv())["reason"]
        assert (await impostor.closed())[0] == 4403


async def test_replica_participant_is_marked_as_on_daily(hub: RoomHub, base_url: str) -> None:
    room = hub.open(ROOM)
    replica = await room.join(user_name="Anna", is_replica=True)
    assert "tavus-replica" in replica.info.user_id and "tavus-replica" in replica.info.user_name
    async with room_client(base_url, ROOM) as ada:
        (seen,) = ada.participants
        assert seen["is_replica"] is True and seen["id"] == replica.id


async def test_leave_frame_ends_the_connection_and_others_see_the_participant_leave(
    hub: RoomHub, base_url: str
) -> None:
    hub.open(ROOM)
    async with room_client(base_url, ROOM, user_name="ada") as ada:
        async with room_client(base_url, ROOM, user_name="bob") as bob:
            await ada.recv_type("participant-joined")
            await bob.send_frame({"type": "leave"})
            assert (await bob.closed())[0] == 1000
            left = await ada.recv_type("participant-left")
            assert left["participant"]["id"] == bob.id


async def test_closing_the_room_tells_everyone_why_and_closes_every_connection(
    hub: RoomHub, base_url: str
) -> None:
    room = hub.open(ROOM)
    closed_reasons: list[str] = []
    await room.join(user_name="app", on_room_closed=closed_reasons.append)
    async with (
        room_client(base_url, ROOM, user_name="ada") as ada,
        room_client(base_url, ROOM, user_name="bob") as bob,
    ):
        await hub.close(ROOM, "max_call_duration reached")
        for client in (ada, bob):
            frame = await client.recv_type("room-closed")
            assert frame["reason"] == "max_call_duration reached"
            assert (await client.closed())[0] == 1000
    assert closed_reasons == ["max_call_duration reached"]
    assert hub.get(ROOM) is None
    with pytest.raises(RoomClosedError):
        await room.join(user_name="late")


async def test_in_process_send_enforces_the_limit_and_the_recipient(hub: RoomHub) -> None:
    room = hub.open(ROOM)
    sender = await room.join(user_name="app")
    with pytest.raises(MessageTooLargeError):
        await sender.send({"text": "é" * 3000})
    with pytest.raises(UnknownParticipantError):
        await sender.send({"x": 1}, to="someone-else")
    await hub.close(ROOM, "done")
    with pytest.raises(RoomClosedError):
        await sender.send({"x": 1})


async def test_a_participant_that_stops_reading_does_not_hold_up_the_others(
    hub: RoomHub, base_url: str
) -> None:
    room = hub.open(ROOM)
    release = asyncio.Event()
    stuck_got: list[dict[str, Any]] = []

    async def never_done(data: dict[str, Any], sender: str) -> None:
        stuck_got.append(data)
        await release.wait()

    await room.join(user_name="stuck", on_app_message=never_done)
    async with (
        room_client(base_url, ROOM, user_name="ada") as ada,
        room_client(base_url, ROOM, user_name="bob") as bob,
    ):
        for number in range(20):
            await ada.send({"n": number})
        got = [(await bob.next_event())["n"] for _ in range(20)]
        assert got == list(range(20))
        assert stuck_got == [{"n": 0}]
    release.set()


async def test_messages_arrive_in_the_order_they_were_sent(hub: RoomHub, base_url: str) -> None:
    hub.open(ROOM)
    async with (
        room_client(base_url, ROOM, user_name="ada") as ada,
        room_client(base_url, ROOM, user_name="bob") as bob,
    ):
        payloads = [{"i": i, "pad": json.dumps(list(range(i)))} for i in range(50)]
        for payload in payloads:
            await ada.send(payload)
        assert [await bob.next_event() for _ in payloads] == payloads


async def test_a_client_that_stops_reading_is_dropped_and_the_room_goes_on(
    hub: RoomHub, base_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rooms, "SEND_QUEUE_FRAMES", 8)
    room = hub.open(ROOM)
    sender = await room.join(user_name="app")
    url = base_url.replace("http://", "ws://") + f"/rooms/{ROOM}/ws?user_name=sleepy"
    # max_queue=1 and no compression: the client stops reading and the socket buffers fill.
    async with (
        connect(url, max_queue=1, compression=None) as sleepy,
        room_client(base_url, ROOM, user_name="ada") as ada,
    ):
        await wait_for(lambda: len(room.participants) == 3, what="everyone to join")
        ada_got: list[dict[str, Any]] = []

        async def ada_reads() -> None:
            while True:
                ada_got.append(await ada.next_event())

        reader = asyncio.create_task(ada_reads())
        payload = {"pad": "x" * 4000}
        sent = 0
        while len(room.participants) == 3:
            assert sent < 20_000, "the stalled client was never dropped"
            sender.send_nowait(payload)
            sent += 1
            await asyncio.sleep(0)
        assert [p.user_name for p in room.participants] == ["app", "ada"]
        # Ada kept reading: she got every message.
        await wait_for(lambda: len(ada_got) == sent, what="ada to get every message")
        reader.cancel()
        assert all(data == payload for data in ada_got)
        # Once the stalled client reads again it gets what was on its way, then the close.
        with pytest.raises(ConnectionClosed):
            while True:
                await asyncio.wait_for(sleepy.recv(), WAIT)
        assert sleepy.close_code == 4408
