"""Cue timings: in order, never empty, known durations honoured, estimates for the rest."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from cvi_app.exports import CueInput, cue_times, estimate_seconds
from cvi_app.exports.timing import MIN_CUE_S


def test_a_known_duration_times_the_cue_exactly() -> None:
    assert cue_times([CueInput(text="hello there", at=1.0, duration=2.25)]) == [(1.0, 3.25)]


def test_a_line_reported_when_speech_ended_starts_its_duration_earlier() -> None:
    assert cue_times([CueInput(text="hi", at=5.0, duration=1.5, reported_at_end=True)]) == [
        (3.5, 5.0)
    ]


def test_without_a_duration_the_length_follows_the_words() -> None:
    ten_words = " ".join(["word"] * 10)
    assert cue_times([CueInput(text=ten_words, at=0.0)]) == [(0.0, estimate_seconds(ten_words))]
    assert estimate_seconds(ten_words) == 4.0


def test_a_cue_ends_where_the_next_one_starts() -> None:
    times = cue_times([CueInput(text="a " * 50, at=0.0), CueInput(text="b", at=3.0)])
    assert times[0] == (0.0, 3.0)


def test_a_line_without_a_time_follows_the_previous_one() -> None:
    times = cue_times([CueInput(text="a", at=2.0, duration=1.0), CueInput(text="b", at=None)])
    assert times[1][0] == 3.0


@given(
    st.lists(
        st.builds(
            CueInput,
            text=st.text(max_size=40),
            at=st.none() | st.floats(-100, 10_000, allow_nan=False),
            duration=st.none() | st.floats(-5, 600, allow_nan=False),
            reported_at_end=st.booleans(),
        ),
        max_size=30,
    )
)
def test_cues_never_go_backwards_and_never_end_before_they_start(lines: list[CueInput]) -> None:
    times = cue_times(lines)
    assert len(times) == len(lines)
    starts = [start for start, _ in times]
    assert starts == sorted(starts)
    assert all(start >= 0 for start in starts)
    assert all(end - start >= MIN_CUE_S - 0.001 for start, end in times)
