"""A conversation's figures from a scripted sequence of stored moments with known timings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cvi_app.analytics.figures import (
    MAX_SPANS,
    Moment,
    ToolFigure,
    conversation_figures,
    percentile,
)

T0 = datetime(2026, 12, 1, 9, 0, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def room(event_type: str, seconds: float, role: str | None = None) -> Moment:
    return Moment(event_type=event_type, source="room", role=role, at=at(seconds))


def sent(event_type: str, seconds: float) -> Moment:
    return Moment(event_type=event_type, source="app", at=at(seconds))


# Joined at 2 s; greets 3-5 s; the user speaks 6-8 s and the replica answers at 8.5 s (until
# 11 s); a respond is sent at 12 s and answered at 13.2 s; an interrupt at 14 s cuts the
# replica short; the call ends at 20 s.
SCRIPT = [
    room("system.replica_joined", 2.0),
    room("conversation.replica.started_speaking", 3.0),
    room("conversation.utterance", 3.0, "replica"),
    room("conversation.replica.stopped_speaking", 5.0),
    room("conversation.user.started_speaking", 6.0),
    room("conversation.user.stopped_speaking", 8.0),
    room("conversation.utterance", 8.0, "user"),
    room("conversation.replica.started_speaking", 8.5),
    room("conversation.replica.stopped_speaking", 11.0),
    sent("conversation.respond", 12.0),
    room("conversation.replica.started_speaking", 13.2),
    sent("conversation.interrupt", 14.0),
    room("conversation.replica_interrupted", 14.1),
    room("conversation.replica.stopped_speaking", 14.2),
]


def _figures(**extra):
    return conversation_figures(
        conversation_id="c1",
        started_at=T0,
        ended_at=extra.pop("ended_at", at(20)),
        end_reason=extra.pop("end_reason", "participant_left_timeout"),
        moments=extra.pop("moments", SCRIPT),
        **extra,
    )


def test_times_to_join_and_to_the_first_utterance_count_from_the_start() -> None:
    f = _figures()
    assert f.to_replica_joined_s == pytest.approx(2.0)
    assert f.to_first_utterance_s == pytest.approx(3.0)
    assert f.duration_s == pytest.approx(20.0)
    assert f.end_reason == "participant_left_timeout"


def test_each_turn_is_timed_from_what_it_answers_and_the_greeting_is_not_a_turn() -> None:
    f = _figures()
    assert [(t.trigger, round(t.latency_s, 3)) for t in f.turns] == [
        ("user", 0.5),
        ("respond", 1.2),
    ]
    assert f.median_latency_s == pytest.approx(0.85)
    assert f.p90_latency_s == pytest.approx(0.5 + 0.9 * 0.7)


def test_talk_time_is_split_between_replica_and_user() -> None:
    f = _figures()
    assert f.replica_talk_s == pytest.approx(2.0 + 2.5 + 1.0)
    assert f.user_talk_s == pytest.approx(2.0)
    assert f.replica_share == pytest.approx(5.5 / 7.5)


def test_interruptions_and_the_interrupts_the_app_sent_are_counted_and_marked() -> None:
    f = _figures()
    assert (f.interruptions, f.interrupts_sent) == (1, 1)
    assert [(m.kind, m.at_s) for m in f.marks] == [("interruption", pytest.approx(14.1))]


def test_tool_calls_keep_their_latency_and_outcome() -> None:
    tools = [
        ToolFigure(name="get_weather", at_s=9.0, latency_ms=120.0, status="success"),
        ToolFigure(name="lookup_order", at_s=10.0, latency_ms=5000.0, status="error"),
        ToolFigure(name="lookup_order", at_s=11.0, latency_ms=None, status="pending"),
    ]
    f = _figures(tools=tools)
    assert f.tool_success_rate == pytest.approx(0.5)
    assert [m.label for m in f.marks if m.kind == "tool"] == [
        "get_weather",
        "lookup_order",
        "lookup_order",
    ]


def test_a_live_conversation_closes_open_speech_at_its_latest_moment() -> None:
    moments = [*SCRIPT[:2], room("conversation.utterance", 4.0, "replica")]
    f = _figures(moments=moments, ended_at=None, end_reason=None)
    assert f.duration_s is None
    assert f.replica_talk_s == pytest.approx(1.0)
    assert f.turns == [] and f.median_latency_s is None and f.replica_share == 1.0


def test_a_conversation_nobody_spoke_in_has_no_latency_or_share() -> None:
    f = _figures(moments=[])
    assert (f.turns, f.replica_share, f.tool_success_rate, f.timeline) == ([], None, None, [])


def test_the_timeline_is_bounded_and_says_when_it_was_cut() -> None:
    moments = []
    for n in range(MAX_SPANS + 50):
        moments += [
            room("conversation.replica.started_speaking", n),
            room("conversation.replica.stopped_speaking", n + 0.5),
        ]
    f = _figures(moments=moments, ended_at=at(MAX_SPANS + 60))
    assert len(f.timeline) == MAX_SPANS and f.timeline_cut
    assert f.timeline[0].start_s == 0 and f.timeline[-1].start_s == MAX_SPANS - 1


def test_percentiles_interpolate_between_ranks() -> None:
    assert percentile([], 0.9) is None
    assert percentile([3.0], 0.9) == 3.0
    assert percentile([1.0, 2.0, 3.0, 4.0, 5.0], 0.9) == pytest.approx(4.6)
