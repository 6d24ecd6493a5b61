"""ConversationSession over a real sandbox room (LocalTransport), recorded in a real SQLite store."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from cvi_app.live.demo_tools import register_demo_tools
from cvi_app.live.session import SessionEnded, SessionError
from cvi_app.live.tools import ToolRegistry
from cvi_app.live.updates import OperatorNote, StatusChanged
from cvi_app.protocol import (
    MAX_APP_MESSAGE_BYTES,
    EchoInteraction,
    RespondInteraction,
    ToolCallEvent,
    ToolResultInteraction,
    message_size,
)
from cvi_app.store import session_scope
from cvi_app.store.conversations import get_conversation
from cvi_app.store.models import ConversationEvent
from cvi_app.store.tool_calls import list_tool_calls
from cvi_app.tavus import TavusClient
from cvi_app.transport import LocalTransport, TransportParams
from tests.live.conftest import Live
from tests.support.room_listener import listen
from tests.support.sandbox import SANDBOX_KEY, LiveSandbox, start_sandbox
from tests.support.servers import wait_for

OpenSession = Callable[..., Any]

HEARD = [
    "conversation.user.started_speaking",
    "conversation.user.stopped_speaking",
    "conversation.utterance",
]
"""How a user turn opens (a typed one too): the user speaks, then their words."""


async def greeted(live: Live) -> None:
    """Wait until the replica has finished its greeting."""
    await live.seen.wait(lambda: live.seen.turns_finished() >= 1, "the greeting")


def utterance(cid: str, seq: int, speech: str, **extra: Any) -> dict[str, Any]:
    return {
        "message_type": "conversation",
        "event_type": "conversation.utterance",
        "conversation_id": cid,
        "seq": seq,
        "properties": {"role": "replica", "speech": speech},
        **extra,
    }


def stored_events(engine: Engine, cid: str) -> list[ConversationEvent]:
    with session_scope(engine) as s:
        query = select(ConversationEvent).where(ConversationEvent.conversation_id == cid)
        return list(s.exec(query.order_by(ConversationEvent.id)).all())  # type: ignore[arg-type]


async def support_persona_id(sandbox: LiveSandbox) -> str:
    async with TavusClient(api_key=SANDBOX_KEY, base_url=f"{sandbox.root_url}/v2") as client:
        personas = await client.list_personas(limit=100)
    [persona_id] = [p.persona_id for p in personas.data if p.persona_name == "Support Agent"]
    return persona_id


# ---- inbound ---------------------------------------------------------------------------------


async def test_the_greeting_and_a_respond_turn_arrive_whole_and_in_seq_order(
    open_session: OpenSession,
) -> None:
    live = await open_session()
    seen = live.seen
    assert live.session.status == "live"
    await greeted(live)
    assert seen.replica_lines() == ["Hi, I'm Sandbox Assistant. How can I help you today?"]

    await live.session.respond("Hello there")
    await seen.wait(lambda: seen.turns_finished() >= 2, "the reply to finish")

    seqs = [event.seq for event in seen.events()]
    assert all(seq is not None for seq in seqs)
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), "every event once, in order"
    reply_turn = seen.events()[-1].turn_idx
    turn = [event for event in seen.events() if event.turn_idx == reply_turn]
    kinds = [event.event_type for event in turn]
    assert kinds[:5] == [
        *HEARD,
        "conversation.replica.started_speaking",
        "conversation.utterance",
    ]
    assert set(kinds[5:-1]) == {"conversation.utterance.streaming"}
    assert kinds[-1] == "conversation.replica.stopped_speaking"
    user, _, replica = turn[2:5]
    assert (user.role, user.properties.speech) == ("user", "Hello there")  # type: ignore[union-attr]
    said = replica.properties.speech  # type: ignore[union-attr]
    assert said.startswith("Hello! It's good to hear from you.")
    assert turn[-2].properties.speech == said and turn[-2].properties.final  # type: ignore[union-attr]
    [sent] = seen.sent()
    assert isinstance(sent.interaction, RespondInteraction)
    assert sent.interaction.properties.text == "Hello there"
    assert not live.session.speaking.replica


async def test_events_from_a_participant_other_than_the_replica_are_ignored(
    open_session: OpenSession, engine: Engine
) -> None:
    live = await open_session()
    await greeted(live)
    arrived: list[str] = []

    async def note(_data: dict[str, Any], sender: str) -> None:
        arrived.append(sender)

    live.transport.on_app_message(note)
    mallory = LocalTransport(
        TransportParams(room_url=live.conversation["conversation_url"], user_name="mallory")
    )
    me = await mallory.join()
    try:
        await mallory.send(utterance(live.cid, 10_000, "I am the replica, honest"))
        await wait_for(lambda: me.id in arrived, what="mallory's message to reach the session")
        await live.transport.wait_handlers()
    finally:
        await mallory.leave()

    assert "I am the replica, honest" not in live.seen.replica_lines()
    assert live.session.rejected == 0, "ignored, not counted as a bad event from the replica"
    await live.session.respond("Hello again")
    await live.seen.wait(lambda: live.seen.turns_finished() >= 2, "the reply")
    await live.session.close("done")
    assert all("honest" not in row.raw for row in stored_events(engine, live.cid))


@pytest.mark.parametrize(
    "message",
    [
        "not json at all",
        b"\xff\xfe\x00",
        [1, 2, 3],
        {"properties": {}},
        {"event_type": 7, "properties": {}},
        {"event_type": "conversation.utterance", "properties": {"role": "replica"}},
        {
            "event_type": "conversation.utterance",
            "seq": "three",
            "properties": {"role": "replica", "speech": "x"},
        },
        {
            "event_type": "conversation.tool_call",
            "properties": {"name": "get_weather", "arguments": "{not json"},
        },
    ],
    ids=["text", "bytes", "list", "no-type", "int-type", "no-speech", "str-seq", "bad-args"],
)
async def test_a_malformed_message_from_the_replica_is_rejected_and_the_call_goes_on(
    open_session: OpenSession, message: Any
) -> None:
    live = await open_session()
    await greeted(live)
    before = len(live.seen.events())

    live.session.handle_app_message(message, live.replica_id())

    assert live.session.rejected == 1
    await live.session.respond("Hello there")
    await live.seen.wait(lambda: live.seen.turns_finished() >= 2, "the reply")
    assert live.session.rejected == 1
    after = live.seen.events()[before:]
    assert [event.event_type for event in after[: len(HEARD)]] == HEARD
    assert after[len(HEARD) - 1].role == "user", "what came next was the user's turn"


async def test_an_event_for_another_conversation_is_rejected(open_session: OpenSession) -> None:
    live = await open_session()
    await greeted(live)
    before = len(live.seen.events())
    live.session.handle_app_message(
        utterance("c-someone-else", 999, "wrong room"), live.replica_id()
    )
    assert live.session.rejected == 1
    assert len(live.seen.events()) == before


async def test_out_of_order_and_repeated_events_are_delivered_once_in_seq_order(
    open_session: OpenSession,
) -> None:
    live = await open_session()
    await greeted(live)
    seen = live.seen
    replica = live.replica_id()
    n = max(event.seq or 0 for event in seen.events())
    before = len(seen.events())

    for offset in (3, 1, 2, 2, 1, 3):
        live.session.handle_app_message(utterance(live.cid, n + offset, f"line {offset}"), replica)
    await seen.wait(lambda: len(seen.events()) >= before + 3, "the three lines")
    # A gap: seq n+5 waits a moment for n+4, then goes on without it.
    live.session.handle_app_message(utterance(live.cid, n + 5, "line 5"), replica)
    live.session.handle_app_message(utterance(live.cid, n + 5, "line 5"), replica)
    await seen.wait(lambda: len(seen.events()) >= before + 4, "the line after the gap")
    # The missing one turns up late: delivered rather than lost, but only once.
    live.session.handle_app_message(utterance(live.cid, n + 4, "line 4"), replica)
    live.session.handle_app_message(utterance(live.cid, n + 4, "line 4"), replica)
    await seen.wait(lambda: len(seen.events()) >= before + 5, "the late line")
    await asyncio.sleep(0)  # nothing else is on its way: the session delivers synchronously

    delivered = seen.events()[before:]
    assert [event.seq for event in delivered] == [n + 1, n + 2, n + 3, n + 5, n + 4]
    assert seen.replica_lines()[-5:] == ["line 1", "line 2", "line 3", "line 5", "line 4"]
    assert live.session.rejected == 0


async def test_pal_and_replica_twins_collapse_into_one_event(
    open_session: OpenSession,
) -> None:
    async with start_sandbox(twins=True) as twin_sandbox:
        live = await open_session(where=twin_sandbox)
        raw: list[dict[str, Any]] = []

        async def note(data: dict[str, Any], _sender: str) -> None:
            raw.append(data)

        live.transport.on_app_message(note)
        await live.session.respond("Hello there")
        await live.seen.wait(lambda: live.seen.turns_finished() >= 2, "the reply")
        await live.transport.wait_handlers()
        await live.session.close("done")

    wire = [
        (m.get("inference_id"), m["properties"].get("role"))
        for m in raw
        if m["event_type"] == "conversation.utterance"
        and m["properties"].get("role") in ("pal", "replica")
    ]
    kept = [
        (e.inference_id, e.role)
        for e in live.seen.of_type("conversation.utterance")
        if e.role in ("pal", "replica")
    ]
    roles = [role for _, role in wire]
    assert roles.count("pal") == roles.count("replica")
    assert wire and len(kept) == len(wire) // 2, "the room carried both twins, one was kept"
    assert sorted({i for i, _ in kept}) == sorted({i for i, _ in wire})
    streamed = [
        (e.inference_id, e.properties.content_index)  # type: ignore[union-attr]
        for e in live.seen.of_type("conversation.utterance.streaming")
    ]
    assert streamed and len(streamed) == len(set(streamed)), "one streaming update per step"


# ---- tools -----------------------------------------------------------------------------------


async def test_a_tool_call_is_answered_by_the_demo_tool_and_the_replica_speaks_the_result(
    open_session: OpenSession, sandbox: LiveSandbox
) -> None:
    live = await open_session(persona_id=await support_persona_id(sandbox))
    seen = live.seen
    await greeted(live)

    await live.session.respond("What is the weather in Paris?")
    await seen.wait(lambda: any("get_weather returned" in s for s in seen.replica_lines()), "reply")

    [call] = [e for e in seen.events() if isinstance(e, ToolCallEvent)]
    pending, done = seen.tool_updates()
    assert call.properties.tool_call_id == pending.tool_call_id == done.tool_call_id
    assert (pending.name, pending.arguments, pending.status) == (
        "get_weather",
        {"city": "Paris"},
        "pending",
    )
    expected = await register_demo_tools(ToolRegistry()).run("get_weather", {"city": "Paris"})
    assert (done.status, done.output) == ("success", expected.output)
    assert done.latency_ms is not None and done.latency_ms >= 0
    [result] = [
        s.interaction for s in seen.sent() if isinstance(s.interaction, ToolResultInteraction)
    ]
    assert result.properties.tool_call_id == done.tool_call_id
    assert result.properties.status == "success"
    assert result.properties.output == expected.output
    weather = json.loads(expected.output)
    spoken = seen.replica_lines()[-1]
    assert spoken.startswith("Here is what get_weather returned: city: Paris")
    assert f"conditions: {weather['conditions']}" in spoken


def _failing_tools() -> ToolRegistry:
    tools = ToolRegistry()

    @tools.tool
    async def get_weather(city: str) -> str:
        raise RuntimeError(f"weather service down for {city}")

    return tools


def _slow_tools() -> ToolRegistry:
    tools = ToolRegistry()

    @tools.tool(time_limit=0.05)
    async def get_weather(city: str) -> str:
        await asyncio.Event().wait()  # never answers
        return city

    return tools


@pytest.mark.parametrize(
    ("make_tools", "why"),
    [(_failing_tools, "weather service down for Paris"), (_slow_tools, "took longer than 0.05s")],
    ids=["fails", "too-slow"],
)
async def test_a_tool_that_fails_or_overruns_sends_an_error_result(
    open_session: OpenSession,
    sandbox: LiveSandbox,
    make_tools: Callable[[], ToolRegistry],
    why: str,
) -> None:
    live = await open_session(persona_id=await support_persona_id(sandbox), tools=make_tools())
    seen = live.seen
    await greeted(live)

    await live.session.respond("What is the weather in Paris?")
    await seen.wait(lambda: any("get_weather failed" in s for s in seen.replica_lines()), "reply")

    [result] = [
        s.interaction for s in seen.sent() if isinstance(s.interaction, ToolResultInteraction)
    ]
    assert result.properties.status == "error"
    assert why in result.properties.output
    assert seen.tool_updates()[-1].status == "error"
    assert seen.replica_lines()[-1].startswith("Sorry, get_weather failed:")
    assert why in seen.replica_lines()[-1]


def _wordy_tools() -> ToolRegistry:
    tools = ToolRegistry()

    @tools.tool
    async def get_weather(city: str) -> str:
        return f"{city}: " + "sunny and warm, " * 400  # far more than one app-message holds

    return tools


async def test_a_tool_result_too_large_for_one_message_is_answered_with_an_error(
    open_session: OpenSession, sandbox: LiveSandbox
) -> None:
    live = await open_session(persona_id=await support_persona_id(sandbox), tools=_wordy_tools())
    seen = live.seen
    await greeted(live)

    await live.session.respond("What is the weather in Paris?")
    await seen.wait(lambda: any("get_weather failed" in s for s in seen.replica_lines()), "reply")

    [result] = [
        s.interaction for s in seen.sent() if isinstance(s.interaction, ToolResultInteraction)
    ]
    assert result.properties.status == "error"
    assert "could not be sent" in result.properties.output
    assert "4096" in result.properties.output
    assert seen.tool_updates()[-1].status == "error"


async def test_a_tool_the_app_does_not_have_is_left_for_the_person_to_answer(
    open_session: OpenSession, sandbox: LiveSandbox
) -> None:
    live = await open_session(persona_id=await support_persona_id(sandbox), tools=ToolRegistry())
    seen = live.seen
    await greeted(live)
    await live.session.respond("What is the weather in Paris?")
    await seen.wait(lambda: seen.tool_updates(), "the tool call")
    [call] = seen.tool_updates()
    assert call.status == "unhandled"

    await live.session.send_tool_result(call.tool_call_id, "Sunny and 21 degrees")
    await seen.wait(lambda: any("Sunny and 21" in s for s in seen.replica_lines()), "reply")


# ---- outbound --------------------------------------------------------------------------------


async def test_a_long_echo_is_split_to_fit_and_arrives_reassembled(
    open_session: OpenSession, sandbox: LiveSandbox
) -> None:
    live = await open_session()
    seen = live.seen
    await greeted(live)
    text = " ".join(f"café-{i:04d}" for i in range(1000))  # about 11 KB

    await live.session.echo(text)

    chunks = [s.interaction for s in seen.sent() if isinstance(s.interaction, EchoInteraction)]
    assert len(chunks) >= 3
    assert len({c.properties.inference_id for c in chunks}) == 1
    assert [c.properties.done for c in chunks] == [False] * (len(chunks) - 1) + [True]
    assert all(message_size(c.to_message()) <= MAX_APP_MESSAGE_BYTES for c in chunks)
    await seen.wait(lambda: seen.turns_finished() >= 2, "the echo to be spoken")
    # The replica's utterance event is itself cut to fit 4 KB; what it spoke is the whole text.
    spoken = seen.replica_lines()[-1]
    assert text.startswith(spoken.removesuffix("…"))
    replica = sandbox.parts.runtime.replica(live.cid)
    assert replica is not None
    assert replica.transcript[-1].role == "assistant"
    assert replica.transcript[-1].content == text


async def _refusal(send: Awaitable[None]) -> str:
    """Why a send was refused ("sent" when it was not)."""
    try:
        await send
    except SessionError as exc:
        return str(exc)
    return "sent"


async def test_nothing_reaches_the_room_once_the_conversation_has_ended(
    open_session: OpenSession, sandbox: LiveSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    live = await open_session()
    await greeted(live)
    async with listen(sandbox, live.cid) as room:
        # The session is over but still in the room while it leaves (a Daily leave takes a
        # moment): a send made then must not reach the room.
        may_leave = asyncio.Event()
        leave = live.transport.leave

        async def slow_leave() -> None:
            await may_leave.wait()
            await leave()

        monkeypatch.setattr(live.transport, "leave", slow_leave)
        closing = asyncio.ensure_future(live.session.close("done"))
        try:
            await wait_for(lambda: live.session.ended, what="the session to end")
            sends = [
                live.session.respond("hello after the end"),
                live.session.echo("an echo after the end"),
                live.session.interrupt(),
                live.session.append_context("context after the end"),
                live.session.send_tool_result("call-1", "a late result"),
            ]
            refusals = [await _refusal(send) for send in sends]
            heard = await room.caught_up(live.transport)
        finally:
            may_leave.set()
            await closing
        replica = room.replica

    assert refusals == ["This conversation has ended."] * len(sends)
    assert heard == [], "nothing the session was asked to send reached the room"
    assert replica is not None
    assert [entry.content for entry in replica.transcript if entry.role == "user"] == []
    assert "after the end" not in replica.responder.context
    assert live.seen.sent() == []


async def test_too_many_sends_in_a_short_time_are_refused(
    open_session: OpenSession, sandbox: LiveSandbox
) -> None:
    live = await open_session(session_options={"send_rate": 0.001, "send_burst": 3})
    async with listen(sandbox, live.cid) as room:
        for n in range(3):
            await live.session.append_context(f"fact {n}")
        refusals = [
            await _refusal(live.session.append_context("one fact too many")),
            await _refusal(live.session.echo("one more")),
        ]
        heard = await room.caught_up(live.transport)

    assert refusals == ["Too many messages in a short time; wait a moment."] * 2
    assert [(m["event_type"], m["properties"]["context"]) for m in heard] == [
        ("conversation.append_llm_context", f"fact {n}") for n in range(3)
    ]
    assert room.replica is not None
    told = room.replica.responder.context
    assert all(f"fact {n}" in told for n in range(3))
    assert "one fact too many" not in told
    assert not any(
        e.role == "assistant" and "one more" in (e.content or "") for e in room.replica.transcript
    )
    assert len(live.seen.sent()) == 3


async def test_interrupts_have_a_budget_of_their_own(
    open_session: OpenSession, sandbox: LiveSandbox
) -> None:
    live = await open_session(
        session_options={"send_rate": 0.001, "send_burst": 1, "interrupt_rate": 0.001}
    )
    async with listen(sandbox, live.cid) as room:
        await live.session.append_context("uses up the send rate")
        for _ in range(5):  # a person can still stop the replica
            await live.session.interrupt()
        refusal = await _refusal(live.session.interrupt())
        heard = await room.caught_up(live.transport)

    assert refusal == "Too many interrupts in a short time; wait a moment."
    assert [m["event_type"] for m in heard] == [
        "conversation.append_llm_context",
        *["conversation.interrupt"] * 5,
    ]
    assert len(live.seen.sent()) == 6


# ---- the end ---------------------------------------------------------------------------------


async def test_closing_twice_or_at_once_ends_the_session_once(
    open_session: OpenSession, engine: Engine
) -> None:
    live = await open_session()
    await greeted(live)
    await asyncio.gather(live.session.close("first"), live.session.close("second"))
    await live.session.close("third")

    assert live.ended == ["first"]
    assert live.session.ended and live.session.end_reason == "first"
    await live.seen.wait(
        lambda: any(
            isinstance(u, StatusChanged) and u.status == "ended" for u in live.seen.updates
        ),
        "the end to be published",
    )
    ends = [u for u in live.seen.updates if isinstance(u, StatusChanged) and u.status == "ended"]
    assert [u.reason for u in ends] == ["first"]
    with session_scope(engine) as s:
        row = get_conversation(s, conversation_id=live.cid)
    assert row is not None and (row.status, row.shutdown_reason) == ("ended", "first")


async def test_the_session_ends_when_the_replica_says_system_shutdown(
    open_session: OpenSession, sandbox: LiveSandbox, engine: Engine
) -> None:
    live = await open_session()
    await greeted(live)
    await sandbox.end(live.cid)
    await wait_for(lambda: live.ended, what="the session to end")

    assert live.ended == ["end_conversation_endpoint_hit"]
    assert live.seen.of_type("system.shutdown")
    with session_scope(engine) as s:
        row = get_conversation(s, conversation_id=live.cid)
    assert row is not None
    assert (row.status, row.shutdown_reason) == ("ended", "end_conversation_endpoint_hit")


async def test_the_session_ends_when_the_room_closes_without_a_goodbye(
    open_session: OpenSession, sandbox: LiveSandbox
) -> None:
    live = await open_session()
    await greeted(live)
    await sandbox.parts.hub.close(live.cid, "room deleted")
    await wait_for(lambda: live.ended, what="the session to end")
    assert live.ended == ["room deleted"]
    with pytest.raises(SessionEnded):
        await live.session.respond("anyone there?")


async def test_everything_the_session_saw_and_did_lands_in_the_store(
    open_session: OpenSession, sandbox: LiveSandbox, engine: Engine
) -> None:
    live = await open_session(persona_id=await support_persona_id(sandbox))
    seen = live.seen
    await greeted(live)
    await live.session.respond("What is the weather in Lisbon?")
    await seen.wait(lambda: seen.turns_finished() >= 2, "the tool reply")
    await live.session.echo("Thanks for waiting.")
    await seen.wait(lambda: seen.turns_finished() >= 3, "the echo")
    await live.session.close("done for today")

    rows = stored_events(engine, live.cid)
    room = [row for row in rows if row.source == "room"]
    assert [row.seq for row in room] == [event.seq for event in seen.events()]
    assert [row.event_type for row in room] == [event.event_type for event in seen.events()]
    app = [row for row in rows if row.source == "app"]
    assert [row.event_type for row in app] == [
        "conversation.respond",
        "conversation.tool_result",
        "conversation.echo",
    ]
    assert app[0].text == "What is the weather in Lisbon?" and app[0].role == "user"
    assert app[2].text == "Thanks for waiting."
    with session_scope(engine) as s:
        [call] = list_tool_calls(s, conversation_id=live.cid)
        conversation = get_conversation(s, conversation_id=live.cid)
    done = seen.tool_updates()[-1]
    assert (call.name, json.loads(call.arguments)) == ("get_weather", {"city": "Lisbon"})
    assert (call.status, call.result) == ("success", done.output)
    assert call.latency_ms is not None and call.latency_ms >= 0
    assert call.finished_at is not None
    assert conversation is not None
    assert (conversation.status, conversation.shutdown_reason) == ("ended", "done for today")
    assert conversation.ended_at is not None


async def _guest(live: Live, name: str = "guest") -> LocalTransport:
    guest = LocalTransport(
        TransportParams(room_url=live.conversation["conversation_url"], user_name=name)
    )
    await guest.join()
    await wait_for(
        lambda: any(p.user_name == name for p in live.transport.participants().values()),
        what=f"{name} to be seen in the room",
    )
    return guest


async def test_the_session_leaves_once_every_person_has_left_the_call(
    open_session: OpenSession,
) -> None:
    live = await open_session(session_options={"empty_room_grace": 0.1})
    guest = await _guest(live)
    await guest.leave()
    await wait_for(lambda: live.ended, what="the session to leave the empty call")
    assert live.ended == ["everyone left the call"]


async def test_a_person_who_comes_back_within_the_grace_period_keeps_the_call(
    open_session: OpenSession,
) -> None:
    grace = 1.0
    live = await open_session(session_options={"empty_room_grace": grace})
    guest = await _guest(live)
    await guest.leave()
    back = await _guest(live, "guest-again")
    try:
        await asyncio.sleep(grace * 1.5)  # past the grace period
        assert not live.session.ended
        await live.session.respond("Still here?")
        await live.seen.wait(lambda: live.seen.turns_finished() >= 2, "the reply")
    finally:
        await back.leave()


async def test_what_an_operator_did_reaches_every_tab_numbered_and_not_the_room(
    open_session: OpenSession, sandbox: LiveSandbox
) -> None:
    live = await open_session()
    await greeted(live)
    async with listen(sandbox, live.cid) as room:
        await live.session.note_operator("ada@example.com", "is watching")
        await live.seen.wait(
            lambda: any(isinstance(u, OperatorNote) for u in live.seen.updates), "the note"
        )
        heard = await room.caught_up(live.transport)
    [note] = [u for u in live.seen.updates if isinstance(u, OperatorNote)]
    assert (note.actor, note.action) == ("ada@example.com", "is watching")
    others = {u.update_id for u in live.seen.updates if u is not note and u.update_id}
    assert note.update_id > 0 and note.update_id not in others
    assert heard == [], "operators' notes stay in the studio"
    await live.session.close("done")
    await live.session.note_operator("ada@example.com", "is watching")
    assert len([u for u in live.seen.updates if isinstance(u, OperatorNote)]) == 1


async def test_the_sessions_summary_follows_the_conversation(open_session: OpenSession) -> None:
    live = await open_session()
    await greeted(live)
    summary = live.session.summary()
    assert summary.conversation_id == live.cid and summary.status == "live"
    assert summary.last_speaker == "replica" and summary.last_line
    assert summary.link == "connected"
    await live.session.echo("A line for the console.")
    await live.seen.wait(
        lambda: live.session.summary().last_line == "A line for the console.", "the echo"
    )
