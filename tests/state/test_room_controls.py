"""RoomControlsState: the room's controls as a tab's events run them, over a real sandbox
conversation."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from cvi_app.live.manager import SessionManager
from cvi_app.state.room_controls import RoomControlsState
from tests.state.rooms import NOT_LIVE, open_room, start
from tests.support.reflex_tabs import Backend
from tests.support.room_listener import listen
from tests.support.sandbox import LiveSandbox

CONTROLS: list[tuple[str, dict[str, Any]]] = [
    ("respond", {}),
    ("echo", {}),
    ("interrupt", {}),
    ("append_context", {}),
    ("overwrite_context", {}),
    ("set_pause_sensitivity", {"value": "high"}),
    ("set_interrupt_sensitivity", {"value": "low"}),
    ("answer_tool_call", {"tool_call_id": "call-1"}),
]


@pytest.mark.parametrize(("control", "payload"), CONTROLS, ids=[c for c, _ in CONTROLS])
async def test_a_control_with_no_live_session_says_so_and_is_no_longer_pending(
    live_states: Backend, app_manager: SessionManager, control: str, payload: dict[str, Any]
) -> None:
    tab = live_states.tab()
    cid = await start(app_manager, tab)
    await app_manager.end_conversation(cid, owner=tab.identity)
    room = await open_room(tab, cid)
    assert room.status == "ended"
    controls = await tab.state(RoomControlsState)
    await tab.run(RoomControlsState.set_message, value="Hello there")
    await tab.run(RoomControlsState.set_context, value="Some context")
    await tab.run(RoomControlsState.set_tool_answer, value="Sunny")
    before = len(tab.received)

    await tab.run(RoomControlsState.event_handlers[control], **payload)

    assert tab.toasts() == [NOT_LIVE]
    assert controls.pending == []
    sent = tab.deltas(RoomControlsState, since=before)
    shown = [d["pending"] for d in sent if "pending" in d]
    name = control.removeprefix("set_").removeprefix("answer_")
    assert shown == [[name.replace("tool_call", "tool_result")], []], "pending while sent"
    assert (controls.message, controls.tool_answer) == ("Hello there", "Sunny"), "kept for a retry"


async def test_a_double_click_sends_the_message_once(
    live_states: Backend,
    app_manager: SessionManager,
    mounted_sandbox: LiveSandbox,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tab = live_states.tab()
    cid = await start(app_manager, tab)
    await open_room(tab, cid)
    controls = await tab.state(RoomControlsState)
    session = app_manager.live_session(cid)
    assert session is not None
    # The first click's message is still on its way when the second click arrives.
    may_send = asyncio.Event()
    send = session.transport.send

    async def slow_send(message: Any, to: str = "*") -> None:
        await may_send.wait()
        await send(message, to)

    monkeypatch.setattr(session.transport, "send", slow_send)
    async with listen(mounted_sandbox, cid) as in_room:
        await tab.run(RoomControlsState.set_message, value="Hello there")
        first = await tab.send(RoomControlsState.respond)
        await tab.wait(lambda: controls.pending == ["respond"], "the first click to be sending")
        second = await tab.send(RoomControlsState.respond)
        await tab.wait(
            lambda: second.done() or controls.pending.count("respond") > 1, "the second click"
        )
        may_send.set()
        await tab.finished(first, what="the first click")
        await tab.finished(second, what="the second click")
        heard = await in_room.caught_up(session.transport)

    assert [(m["event_type"], m["properties"]) for m in heard] == [
        ("conversation.respond", {"text": "Hello there"})
    ]
    assert (controls.message, controls.pending) == ("", [])
    assert tab.toasts() == []


async def test_respond_can_be_used_once_something_is_written_and_no_longer_once_the_call_ends(
    live_states: Backend, app_manager: SessionManager
) -> None:
    tab = live_states.tab()
    cid = await start(app_manager, tab)
    room = await open_room(tab, cid)
    controls = await tab.state(RoomControlsState)
    assert room.status == "live" and not controls.can_send_message

    await tab.run(RoomControlsState.set_message, value="   ")
    assert not controls.can_send_message, "blank is not a message"
    await tab.run(RoomControlsState.set_message, value="Hello there")
    assert controls.can_send_message
    before = len(tab.received)
    await app_manager.end_conversation(cid, owner=tab.identity)

    def told_it_ended() -> bool:
        sent = tab.deltas(RoomControlsState, since=before)
        return bool(sent) and sent[-1].get("can_send_message") is False

    # The stream may resend the (unchanged) value before the end; the last word is False.
    await tab.wait(told_it_ended, "the page to be told")
    assert room.status == "ended" and controls.message == "Hello there"
