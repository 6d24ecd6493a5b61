"""Room connection drops: the app's participant rejoins by itself while the room is open, the
session keeps running, the tabs are told, and turns after the rejoin arrive as before.

Drops are real: the sandbox cuts the server side of the WebSocket (`Room.disconnect`), or the
whole server stops and starts again on the same port.
"""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import Engine

from cvi_app.sandbox.app import create_sandbox_app, sandbox_of
from cvi_app.sandbox.rooms import Room
from cvi_app.transport import LocalTransport, Participant, TransportParams
from tests.live.conftest import Live
from tests.reliability.conftest import notices, stored_conversations, stored_events
from tests.support.sandbox import SANDBOX_KEY, LiveSandbox
from tests.support.servers import free_port, serve, wait_for

# Without anyone else in the room, Tavus ends a call the moment its last participant leaves
# (participant_left_timeout 0): a drop must not count as leaving for that long.
STAYS_OPEN = {"properties": {"participant_left_timeout": 60}}
QUICK_REJOIN = {"reconnect_backoff": 0.05, "max_reconnect_backoff": 0.2}


def room_of(sandbox: LiveSandbox, live: Live) -> Room:
    room = sandbox.parts.hub.get(live.cid)
    assert room is not None
    return room


async def greeted(live: Live) -> None:
    await live.seen.wait(lambda: live.seen.turns_finished() >= 1, "the greeting")


async def answered(live: Live, text: str, *, turns_before: int) -> None:
    await live.session.respond(text)
    await live.seen.wait(
        lambda: live.seen.turns_finished() > turns_before, f"the answer to {text!r}"
    )


async def test_a_dropped_connection_is_rejoined_and_the_next_turn_arrives(
    sandbox: LiveSandbox, open_session: Any, engine: Engine
) -> None:
    live = await open_session(transport_options=QUICK_REJOIN, **STAYS_OPEN)
    await greeted(live)
    before = live.transport.local_participant
    assert before is not None

    assert await room_of(sandbox, live).disconnect(before.id)

    await live.seen.wait(
        lambda: [n.active for n in notices(live, "connection")] == [True, False],
        "the lost and back notices",
    )
    lost, back = notices(live, "connection")
    assert lost.text == "The connection to the room was lost; reconnecting…"
    assert back.text == "Reconnected to the room."
    after = live.transport.local_participant
    assert after is not None and after.id != before.id
    assert live.session.status == "live" and live.ended == []
    assert [p.id for p in room_of(sandbox, live).participants if not p.is_replica] == [after.id]

    # The replica is still trusted, and what it says after the rejoin arrives and is stored.
    await answered(live, "Are you still there?", turns_before=live.seen.turns_finished())
    assert live.session.rejected == 0
    await live.writer.flush()
    texts = [row.text for row in stored_events(engine, live.cid)]
    assert "Are you still there?" in texts
    assert live.seen.replica_lines()[-1] in texts


async def test_a_turn_sent_while_rejoining_waits_and_is_answered(
    sandbox: LiveSandbox, open_session: Any
) -> None:
    live = await open_session(transport_options=QUICK_REJOIN, **STAYS_OPEN)
    await greeted(live)
    me = live.transport.local_participant
    assert me is not None
    turns = live.seen.turns_finished()

    await room_of(sandbox, live).disconnect(me.id)
    await wait_for(lambda: live.transport.reconnecting, what="the rejoin to start")
    await live.session.respond("Sent while the link was down")

    await live.seen.wait(lambda: live.seen.turns_finished() > turns, "the answer")
    assert "Sent while the link was down" in [
        e.properties.speech  # type: ignore[union-attr]
        for e in live.seen.of_type("conversation.utterance")
        if e.role == "user"
    ]


async def test_the_room_closing_while_away_ends_the_session_with_the_reason(
    sandbox: LiveSandbox, open_session: Any, engine: Engine
) -> None:
    live = await open_session(
        transport_options={"reconnect_backoff": 0.3, "max_reconnect_backoff": 0.3}, **STAYS_OPEN
    )
    await greeted(live)
    me = live.transport.local_participant
    assert me is not None

    await room_of(sandbox, live).disconnect(me.id)
    await wait_for(lambda: live.transport.reconnecting, what="the rejoin to start")
    await sandbox.end(live.cid)

    await live.seen.wait(lambda: live.ended, "the session to end")
    reason = live.session.end_reason or ""
    assert reason.startswith("connection to the room was lost")
    assert "the room refused to let us back in" in reason and "no such room" in reason
    assert live.ended == [reason]
    [row] = [c for c in stored_conversations(engine) if c.conversation_id == live.cid]
    assert (row.status, row.shutdown_reason) == ("ended", reason)


async def test_a_server_restart_is_ridden_out(open_session: Any) -> None:
    app = create_sandbox_app(api_key=SANDBOX_KEY, words_per_second=1000.0)
    parts = sandbox_of(app)
    port = free_port()
    root = f"http://127.0.0.1:{port}"
    try:
        async with (
            httpx.AsyncClient(base_url=root, headers={"x-api-key": SANDBOX_KEY}) as api,
        ):
            restarted = LiveSandbox(root_url=root, parts=parts, api=api)
            # Lifespan off: the app's rooms outlive a restart (the test closes them at the end).
            async with serve(app, lifespan="off", port=port):
                live = await open_session(
                    where=restarted, transport_options=QUICK_REJOIN, **STAYS_OPEN
                )
                await greeted(live)
            # The server is down: rejoin attempts fail until it is back.
            await wait_for(lambda: live.transport.reconnecting, what="the rejoin to start")
            async with serve(app, lifespan="off", port=port):
                await live.seen.wait(
                    lambda: [n.active for n in notices(live, "connection")] == [True, False],
                    "the rejoin",
                )
                assert live.session.status == "live"
                await answered(live, "Back again", turns_before=live.seen.turns_finished())
                await live.session.close("test over")
    finally:
        await parts.aclose()


async def test_a_room_that_never_comes_back_ends_the_session_with_the_reason(
    open_session: Any,
) -> None:
    app = create_sandbox_app(api_key=SANDBOX_KEY, words_per_second=1000.0)
    parts = sandbox_of(app)
    port = free_port()
    root = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=root, headers={"x-api-key": SANDBOX_KEY}) as api:
            gone = LiveSandbox(root_url=root, parts=parts, api=api)
            async with serve(app, lifespan="off", port=port):
                live = await open_session(
                    where=gone,
                    transport_options={**QUICK_REJOIN, "reconnect_attempts": 3},
                    **STAYS_OPEN,
                )
                await greeted(live)
        await live.seen.wait(lambda: live.ended, "the session to end")
        reason = live.session.end_reason or ""
        assert reason.startswith("connection to the room was lost")
        assert "rejoining failed: could not connect to the room" in reason
        assert [n.active for n in notices(live, "connection")] == [True]
    finally:
        await parts.aclose()


async def test_who_came_and_went_while_away_is_reported_after_the_rejoin(
    sandbox: LiveSandbox,
) -> None:
    room = sandbox.parts.hub.open("c-bare")
    bob = await room.join(user_name="bob")
    transport = LocalTransport(
        TransportParams(room_url=f"{sandbox.root_url}/rooms/c-bare", user_name="app"),
        reconnect_backoff=0.3,
    )
    joined: list[str] = []
    left: list[str] = []
    back: list[Participant] = []

    async def on_joined(participant: Participant) -> None:
        joined.append(participant.user_name)

    async def on_left(participant: Participant) -> None:
        left.append(participant.user_name)

    async def on_back(participant: Participant) -> None:
        back.append(participant)

    transport.on_participant_joined(on_joined)
    transport.on_participant_left(on_left)
    transport.on_reconnected(on_back)
    me = await transport.join()
    try:
        await wait_for(lambda: joined == ["bob"], what="bob to be seen")
        await room.disconnect(me.id)
        await wait_for(lambda: transport.reconnecting, what="the rejoin to start")
        await bob.leave()
        await room.join(user_name="carol")

        await wait_for(lambda: back != [], what="the rejoin")
        await transport.wait_handlers()
        assert (joined, left) == (["bob", "carol"], ["bob"])
        assert back == [transport.local_participant] and back[0].id != me.id
        names = {p.user_name for p in transport.participants().values()}
        assert names == {"app", "carol"}
    finally:
        await transport.leave()
