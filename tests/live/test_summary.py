"""A session's summary follows what it publishes: last line, people, link, tool calls."""

from __future__ import annotations

from datetime import UTC, datetime

from cvi_app.live.summary import LAST_LINE_CHARS, SummaryTracker
from cvi_app.live.updates import (
    PresenceChanged,
    PresentParticipant,
    StatusChanged,
    ToolCallUpdate,
)
from tests.presentation.helpers import received

AT = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def _summary(tracker: SummaryTracker):
    return tracker.summary(replica_speaking=False, user_speaking=True, replica_silent=False)


def test_the_last_line_is_the_latest_utterance_cut_to_a_bounded_length() -> None:
    tracker = SummaryTracker("c1")
    tracker.observe(received("conversation.utterance", {"role": "replica", "speech": "Hello."}))
    tracker.observe(received("conversation.utterance", {"role": "user", "speech": "  "}))
    assert (_summary(tracker).last_speaker, _summary(tracker).last_line) == ("replica", "Hello.")
    long = "word " * 200
    tracker.observe(received("conversation.utterance", {"role": "user", "speech": long}))
    summary = _summary(tracker)
    assert summary.last_speaker == "user"
    assert len(summary.last_line) == LAST_LINE_CHARS and summary.last_line.endswith("…")
    assert summary.user_speaking and not summary.replica_speaking


def test_people_and_the_room_link_come_from_presence() -> None:
    tracker = SummaryTracker("c1")
    tracker.observe(
        PresenceChanged(
            participants=[
                PresentParticipant(id="r", name="Replica", role="replica", joined_at=AT),
                PresentParticipant(id="a", name="CVI Studio", role="app", joined_at=AT),
                PresentParticipant(id="p", name="Ada", role="person", joined_at=AT),
            ],
            others=2,
            link="reconnecting",
        )
    )
    tracker.observe(StatusChanged(status="live"))
    summary = _summary(tracker)
    assert (summary.people, summary.others, summary.link) == (["Ada"], 2, "reconnecting")
    assert summary.status == "live"


def test_open_tool_calls_are_listed_until_answered_and_failures_counted() -> None:
    tracker = SummaryTracker("c1")

    def call(cid: str, status: str) -> ToolCallUpdate:
        return ToolCallUpdate(tool_call_id=cid, name=f"tool_{cid}", arguments={}, status=status)  # type: ignore[arg-type]

    tracker.observe(call("1", "pending"))
    tracker.observe(call("2", "unhandled"))
    assert _summary(tracker).open_tool_calls == ["tool_1", "tool_2"]
    tracker.observe(call("1", "success"))
    tracker.observe(call("2", "error"))
    summary = _summary(tracker)
    assert summary.open_tool_calls == [] and summary.tool_errors == 1
