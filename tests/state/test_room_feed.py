"""RoomFeed (a tab's updates folded into what its room shows) and FeedState's windows."""

from __future__ import annotations

from typing import Any

from cvi_app.live.tool_calls import MAX_UNANSWERED
from cvi_app.live.updates import (
    EventReceived,
    LiveUpdate,
    Notice,
    SpeakingChanged,
    StatusChanged,
    ToolCallUpdate,
)
from cvi_app.protocol import parse_event
from cvi_app.state.feed import RING
from cvi_app.state.room_feed import MAX_TOOL_ROWS, FeedState, RoomFeed
from tests.support.feeds import pushed_items, sent_items
from tests.support.reflex_tabs import Backend

CID = "c-feed"


def event(event_type: str, seq: int, **properties: Any) -> EventReceived:
    raw = {
        "message_type": "conversation",
        "event_type": event_type,
        "conversation_id": CID,
        "seq": seq,
        "inference_id": "inf-1",
        "turn_idx": 1,
        "properties": properties,
    }
    parsed = parse_event(raw)
    return EventReceived(event=parsed, raw=parsed.to_json())


def tool(call_id: str, status: str, **fields: Any) -> ToolCallUpdate:
    return ToolCallUpdate(
        tool_call_id=call_id,
        name="get_weather",
        arguments={"city": "Oslo"},
        status=status,
        **fields,
    )


def ids(feed: RoomFeed) -> list[str]:
    return [row["id"] for row in feed.tool_rows()]


# ---- folding ---------------------------------------------------------------------------------


def test_a_batch_folds_into_its_lines_rows_and_the_last_status_and_speaking() -> None:
    feed = RoomFeed()
    lost = Notice(topic="connection", text="The connection was lost; reconnecting…", active=True)
    back = Notice(topic="connection", text="Reconnected to the room.", active=False)
    batch: list[LiveUpdate] = [
        StatusChanged(status="joining"),
        event("conversation.utterance", 1, role="replica", speech="Hello there."),
        SpeakingChanged(replica=True, user=False),
        lost,
        back,
        SpeakingChanged(replica=False, user=True),
        StatusChanged(status="ended", reason="done for today"),
    ]

    changes = feed.fold(batch)

    assert changes.status is not None
    assert (changes.status.status, changes.status.reason) == ("ended", "done for today")
    assert changes.speaking == batch[5], "the last word on who speaks wins"
    assert changes.notices == [lost, back], "every notice, in order"
    assert [line["text"] for line in changes.lines if "text" in line] == ["Hello there."]
    assert [row["type"] for row in changes.rows if "type" in row] == ["conversation.utterance"]
    assert not changes.tools_changed


def test_an_empty_batch_changes_nothing() -> None:
    changes = RoomFeed().fold([])
    assert (changes.lines, changes.rows, changes.notices) == ([], [], [])
    assert (changes.status, changes.speaking, changes.tools_changed) == (None, None, False)


def test_a_tool_call_is_one_row_that_follows_its_progress() -> None:
    feed = RoomFeed()
    assert feed.fold([tool("t-1", "pending"), tool("t-2", "unhandled")]).tools_changed
    feed.fold([tool("t-1", "success", output="Sunny, 21 °C", latency_ms=12.0)])

    rows = feed.tool_rows()
    assert [(row["id"], row["status"]) for row in rows] == [
        ("t-2", "unhandled"),
        ("t-1", "success"),
    ]
    assert (rows[1]["output"], rows[1]["latency"]) == ("Sunny, 21 °C", "12 ms")
    assert rows[1]["arguments"] == '{"city": "Oslo"}'


def test_waiting_calls_stay_however_many_finish_after_them() -> None:
    feed = RoomFeed()
    feed.fold([tool("ask-0", "unhandled")])
    for n in range(MAX_TOOL_ROWS * 3):
        feed.fold([tool(f"done-{n}", "success", output="ok")])
    feed.fold([tool("ask-1", "unhandled")])

    shown = ids(feed)
    assert [i for i in shown if i.startswith("ask")] == ["ask-0", "ask-1"]
    assert [i for i in shown if i.startswith("done")] == [
        f"done-{n}" for n in range(MAX_TOOL_ROWS * 2, MAX_TOOL_ROWS * 3)
    ]


def test_answering_a_waiting_call_makes_it_a_finished_one() -> None:
    feed = RoomFeed()
    feed.fold([tool("ask-0", "unhandled")])
    feed.fold([tool(f"done-{n}", "success") for n in range(MAX_TOOL_ROWS)])
    feed.fold([tool("ask-0", "success", output="answered by hand")])

    shown = ids(feed)
    assert len(shown) == MAX_TOOL_ROWS, "now it counts among the latest finished"
    assert shown[-1] == "ask-0" and "done-0" not in shown


def test_waiting_calls_are_capped_as_the_session_caps_them() -> None:
    feed = RoomFeed()
    feed.fold([tool(f"ask-{n}", "unhandled") for n in range(MAX_UNANSWERED + 3)])
    assert ids(feed) == [f"ask-{n}" for n in range(3, MAX_UNANSWERED + 3)]


# ---- FeedState -------------------------------------------------------------------------------


async def test_each_push_goes_to_the_next_slot_numbered_once(states: Backend) -> None:
    feeds = await states.tab().state(FeedState)
    seen: list[int] = []
    for n in range(3 * RING):
        feeds.show([{"id": f"l-{n}", "text": f"line {n}"}], [{"id": f"e-{n}"}], reset=False)
        slot = getattr(feeds, f"transcript_{n % RING}")
        assert [item["id"] for item in slot] == [f"l-{n}"], "a slot holds one push, not a window"
        seen.append(slot[0]["u"])
        assert getattr(feeds, f"events_{n % RING}")[0]["id"] == f"e-{n}"

    assert seen == list(range(1, 3 * RING + 1)), "no gap, no repeat"
    assert [item["id"] for item in pushed_items(feeds, "transcript")] == [
        f"l-{n}" for n in range(2 * RING, 3 * RING)
    ], "the ring keeps the last pushes"
    assert feeds.transcript["items"] == [] and feeds.events["items"] == []


async def test_a_burst_is_one_push(states: Backend) -> None:
    feeds = await states.tab().state(FeedState)
    feeds.show([{"id": "l-0", "text": "first"}], [], reset=False)
    burst = [{"id": f"l-{n}", "text": f"line {n}"} for n in range(1, 2 * RING + 1)]

    feeds.show(burst, [], reset=False)

    assert [item["id"] for item in feeds.transcript_1] == [item["id"] for item in burst]
    assert [item["u"] for item in feeds.transcript_1] == list(range(2, 2 * RING + 2))
    assert pushed_items(feeds, "events") == [], "no rows, no change to the event log"


async def test_a_reset_sends_whole_lines_and_numbering_goes_on(states: Backend) -> None:
    feeds = await states.tab().state(FeedState)
    feeds.show([{"id": "l-0", "text": "before"}], [{"id": "e-0"}], reset=False)
    history: list[dict[str, Any]] = [
        {"id": "r-1", "role": "replica", "streamed": "Hel", "partial": True},
        {"id": "r-1", "streamed": "Hello", "partial": False},
        {"id": "u-2", "role": "user", "text": "Hi"},
    ]

    feeds.show(history, [{"id": "e-1"}, {"id": "e-2"}], reset=True)

    transcript = feeds.transcript
    assert transcript["reset_id"] == 1
    assert transcript["items"] == [
        {"id": "r-1", "role": "replica", "streamed": "Hello", "partial": False},
        {"id": "u-2", "role": "user", "text": "Hi"},
    ]
    assert transcript["base_u"] == 1, "the browser counts on from the last update it had"
    assert [row["id"] for row in feeds.events["items"]] == ["e-1", "e-2"]

    feeds._clean()  # the reset was sent
    feeds.show([{"id": "l-3", "text": "after"}], [], reset=False)
    (sent,) = feeds.get_delta().values()
    assert list(sent) == ["transcript_1_rx_state_"], "history is sent once, not with every update"
    assert pushed_items(feeds, "transcript")[-1]["u"] == 2


async def test_clearing_shows_nothing(states: Backend) -> None:
    feeds = await states.tab().state(FeedState)
    feeds.show([{"id": "l-0", "text": "secret"}], [{"id": "e-0"}], reset=False)
    assert sent_items(feeds.dict()[FeedState.get_full_name()], "transcript")
    feeds.clear()
    for feed in ("transcript", "events"):
        assert sent_items(feeds.dict()[FeedState.get_full_name()], feed) == [], "nothing to read"
