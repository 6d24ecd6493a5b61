"""RoomState: the room's loading and stream as a tab's events run them, over a real sandbox
conversation (its controls: test_room_controls.py)."""

from __future__ import annotations

import functools
import json

import pytest

from cvi_app.live.errors import NOT_OPEN_HERE
from cvi_app.live.manager import SessionManager
from cvi_app.live.updates import EventReceived, Notice, SpeakingChanged, ToolCallUpdate
from cvi_app.protocol import parse_event
from cvi_app.state.room_controls import RoomControlsState
from cvi_app.state.room_feed import MAX_TOOL_ROWS, FeedState, SpeakingState
from cvi_app.state.room_state import RoomState
from tests.state.rooms import open_room, start
from tests.support.feeds import pushed_items, pushed_slots, sent_items
from tests.support.reflex_tabs import Backend, Tab
from tests.support.room_listener import listen
from tests.support.sandbox import LiveSandbox

GREETING = "Hi, I'm Sandbox Assistant. How can I help you today?"


async def following(tab: Tab) -> FeedState:
    """Wait until the room's stream has restored the history (so it is subscribed)."""
    feeds = await tab.state(FeedState)
    await tab.wait(lambda: feeds.transcript["reset_id"] >= 1, "the stream to restore")
    return feeds


async def greeted(tab: Tab) -> None:
    """Wait until the tab has been shown the end of the replica's greeting.

    The session publishes that the replica stopped speaking in the same step as the event, so
    whatever a test publishes after this comes after the greeting's last update.
    """
    await tab.wait(
        lambda: "conversation.replica.stopped_speaking" in tab.sent_json(), "the greeting's end"
    )


async def followed_room(backend: Backend, manager: SessionManager) -> tuple[Tab, str, RoomState]:
    """The owner's tab on a new live conversation's room, following it, the greeting over."""
    tab = backend.tab()
    cid = await start(manager, tab)
    room = await open_room(tab, cid)
    await following(tab)
    await greeted(tab)
    return tab, cid, room


def transcript(tab: Tab) -> list[str]:
    """Every transcript text the tab was sent (restored or live), in order."""
    texts = []
    for delta in tab.deltas(FeedState):
        texts += [item["text"] for item in sent_items(delta, "transcript") if "text" in item]
    return texts


def utterance(cid: str, seq: int, speech: str) -> EventReceived:
    event = parse_event(
        {
            "message_type": "conversation",
            "event_type": "conversation.utterance",
            "conversation_id": cid,
            "seq": seq,
            "properties": {"role": "replica", "speech": speech},
        }
    )
    return EventReceived(event=event, raw=event.to_json())


# ---- who may -----------------------------------------------------------------------------


async def test_the_owner_sees_its_room_live_with_its_call_and_the_greeting(
    live_states: Backend, app_manager: SessionManager
) -> None:
    tab = live_states.tab()
    cid = await start(app_manager, tab)
    room = await open_room(tab, cid)

    assert (room.status, room.error, room.live) == ("live", "", True), room.error
    assert room.join_url == app_manager.join_url(cid)
    await tab.wait(lambda: GREETING in transcript(tab), "the greeting in the transcript")


@pytest.mark.parametrize("stranger", ["another browser", "no identity"])
async def test_another_browser_is_refused_shown_nothing_and_can_send_nothing(
    live_states: Backend,
    app_manager: SessionManager,
    mounted_sandbox: LiveSandbox,
    stranger: str,
) -> None:
    owner = live_states.tab()
    cid = await start(app_manager, owner)
    await open_room(owner, cid)
    await owner.wait(lambda: GREETING in transcript(owner), "the greeting")
    session = app_manager.live_session(cid)
    assert session is not None

    other = live_states.tab(identity="" if stranger == "no identity" else None)
    room = await open_room(other, cid)
    assert (room.status, room.error, room.join_url) == ("forbidden", NOT_OPEN_HERE, "")
    async with listen(mounted_sandbox, cid) as in_room:
        await other.run(RoomControlsState.set_message, value="Let me take over")
        await other.run(RoomControlsState.set_context, value="New rules")
        controls = RoomControlsState
        for control in (controls.respond, controls.echo, controls.append_context):
            await other.run(control)
        await other.run(RoomControlsState.set_pause_sensitivity, value="high")
        await other.run(RoomControlsState.end)
        # A handler sent by hand, not from the page: the stream checks the owner too.
        await other.run(RoomState.stream, stream_id=(await other.state(RoomState))._stream_id)
        await other.run(RoomState.resync, _last=0)
        heard = await in_room.caught_up(session.transport)

    assert heard == [], "nothing reached the room"
    assert other.toasts() == [NOT_OPEN_HERE] * 5
    assert room.status == "forbidden" and room.join_url == ""
    sent = other.sent_json()
    assert app_manager.join_url(cid) not in sent
    assert GREETING not in sent and transcript(other) == []
    assert session.status == "live"


# ---- what the stream shows -----------------------------------------------------------------


async def test_every_waiting_tool_call_stays_in_the_panel_past_twenty_finished_ones(
    live_states: Backend, app_manager: SessionManager
) -> None:
    tab, cid, room = await followed_room(live_states, app_manager)
    waiting = [
        ToolCallUpdate(tool_call_id=f"ask-{n}", name="ask_person", arguments={}, status="unhandled")
        for n in range(2)
    ]
    finished = [
        ToolCallUpdate(
            tool_call_id=f"done-{n}",
            name="get_weather",
            arguments={"city": "Paris"},
            status="success",
            output="sunny",
            latency_ms=3.0,
        )
        for n in range(MAX_TOOL_ROWS + 5)
    ]
    for update in [waiting[0], *finished[:10], waiting[1], *finished[10:]]:
        app_manager.bus.publish(cid, update)
    last = finished[-1].tool_call_id
    await tab.wait(lambda: room.tool_calls and room.tool_calls[-1]["id"] == last, "the last call")

    shown = [row["id"] for row in room.tool_calls]
    latest = [f"done-{n}" for n in range(5, MAX_TOOL_ROWS + 5)]
    assert [i for i in shown if i.startswith("ask")] == ["ask-0", "ask-1"]
    assert [i for i in shown if i.startswith("done")] == latest
    assert room.unanswered_tool_calls == ["ask-0", "ask-1"]
    sizes = [len(d["tool_calls"]) for d in tab.deltas(RoomState) if "tool_calls" in d]
    assert max(sizes) <= MAX_TOOL_ROWS + 2, "the panel never grows past its rows"


async def test_notices_speaking_and_the_end_show_while_they_last(
    live_states: Backend, app_manager: SessionManager
) -> None:
    tab, cid, room = await followed_room(live_states, app_manager)
    speaking = await tab.state(SpeakingState)
    silent = "The replica has not answered for a while."
    publish = app_manager.bus.publish

    publish(cid, Notice(topic="replica", text=silent, active=True))
    publish(cid, SpeakingChanged(replica=False, user=True))
    await tab.wait(lambda: room.notice == silent and speaking.user, "the notice and the user")
    publish(cid, Notice(topic="connection", text="Reconnected to the room.", active=False))
    publish(cid, SpeakingChanged(replica=True, user=False))
    await tab.wait(lambda: speaking.replica, "the replica speaking")
    assert room.notice == silent, "another topic's all-clear leaves it"
    assert not speaking.user

    watching = app_manager.bus.subscriber_count(cid)
    await app_manager.end_conversation(cid, owner=tab.identity)
    await tab.wait(lambda: room.status == "ended", "the end")
    assert (room.live, room.notice) == (False, "")
    assert room.end_reason
    assert not speaking.replica and not speaking.user
    await tab.wait(lambda: app_manager.bus.subscriber_count(cid) < watching, "the stream to stop")


async def test_the_feeds_send_each_update_once_however_long_the_call(
    live_states: Backend, app_manager: SessionManager
) -> None:
    tab, cid, _ = await followed_room(live_states, app_manager)
    feeds = await tab.state(FeedState)
    before = len(tab.received)

    def shown(text: str) -> bool:
        return any(item.get("text") == text for item in pushed_items(feeds, "transcript"))

    for n in range(40):
        line = f"line {n} of a long call"
        app_manager.bus.publish(cid, utterance(cid, 10_000 + n, line))
        await tab.wait(functools.partial(shown, line), line)

    pushes = tab.deltas(FeedState, since=before)
    assert len(pushes) >= 40
    for delta in pushes:
        assert "transcript" not in delta and "events" not in delta, "history is not resent"
        assert len(pushed_slots(delta, "transcript")) <= 1
        assert len(pushed_slots(delta, "events")) <= 1
    sizes = [len(json.dumps(d)) for d in pushes]
    assert max(sizes) <= 1.1 * min(sizes), "each update sends the same amount"
