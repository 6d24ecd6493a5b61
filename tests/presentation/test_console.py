"""The console's rows and alerts, in the words an operator reads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cvi_app.live.summary import LiveSummary
from cvi_app.presentation.console import alerts, console_row, duration_words
from cvi_app.store.models import Conversation

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def _row(**fields) -> Conversation:
    return Conversation(
        conversation_id="c1",
        mode="sandbox",
        created_at=NOW - timedelta(seconds=fields.pop("age", 65)),
        **fields,
    )


def test_durations_read_like_speech() -> None:
    assert [duration_words(s) for s in (0, 45, 65, 3599, 3720)] == [
        "0 s",
        "45 s",
        "1 min",
        "59 min",
        "1 h 02 min",
    ]


def test_a_quiet_healthy_conversation_has_no_alerts() -> None:
    summary = LiveSummary(conversation_id="c1", link="connected", people=["Ada"])
    assert alerts(_row(max_call_duration=3600), summary, now=NOW) == []


def test_alerts_name_each_problem_most_urgent_first() -> None:
    summary = LiveSummary(
        conversation_id="c1", link="reconnecting", replica_silent=True, tool_errors=2
    )
    found = alerts(_row(max_call_duration=100, age=40), summary, now=NOW)
    assert found == [
        "The link to the room is lost; reconnecting.",
        "The replica has not answered the last turn.",
        "2 tool calls failed.",
        "The time limit ends the call in 1 min.",
    ]
    assert alerts(_row(), None, now=NOW) == [
        "No server is running this conversation right now; it may be moving to another."
    ]


def test_a_row_says_who_is_in_what_was_said_and_what_waits() -> None:
    summary = LiveSummary(
        conversation_id="c1",
        people=["Ada", "Ben"],
        others=1,
        replica_speaking=True,
        last_speaker="user",
        last_line="Where is my order?",
        open_tool_calls=["lookup_order"],
    )
    row = console_row(
        _row(started_by="op@example.com"),
        summary,
        title="Support",
        persona="Support Agent",
        replica="Anna",
        now=NOW,
    )
    assert row["people"] == "Ada, Ben and 1 more"
    assert row["speaking"] == "replica speaking"
    assert row["last_line"] == "User: Where is my order?"
    assert row["tools"] == "1 waiting: lookup_order"
    assert (row["duration"], row["alerts"], row["started_by"]) == ("1 min", "", "op@example.com")
