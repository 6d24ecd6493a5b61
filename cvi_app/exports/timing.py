"""Cue timings for transcript lines: when each line starts and ends, in seconds.

The store knows when each line was reported, not exactly when it was spoken: a replica's
utterance arrives as it starts speaking, a user's once they stopped. Known speech durations
(from `stopped_speaking` events, or the official transcript) are used; otherwise a duration is
estimated from the number of words. Cues come out in order, each at least `MIN_CUE_S` long,
and a cue is cut short where the next one starts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["MIN_CUE_S", "WORDS_PER_SECOND", "CueInput", "cue_times", "estimate_seconds"]

WORDS_PER_SECOND = 2.5
MIN_CUE_S = 0.5
MAX_ESTIMATE_S = 30.0


@dataclass(frozen=True)
class CueInput:
    """What is known about one line's timing.

    Attributes:
        text: The line's words (for the estimate).
        at: Seconds from the origin when the line was reported, or None when unknown.
        duration: How long it was spoken, when known.
        reported_at_end: The line was reported when its speech ended (user utterances).
    """

    text: str
    at: float | None
    duration: float | None = None
    reported_at_end: bool = False


def estimate_seconds(text: str) -> float:
    """How long `text` takes to say, roughly (at least `MIN_CUE_S`, at most 30 s)."""
    words = len(text.split())
    return min(MAX_ESTIMATE_S, max(MIN_CUE_S, words / WORDS_PER_SECOND))


def cue_times(lines: Sequence[CueInput]) -> list[tuple[float, float]]:
    """Start and end (seconds, millisecond precision) of each line, in order.

    Args:
        lines: The lines in transcript order.

    Returns:
        One `(start, end)` per line: starts never go backwards, every end is after its start.
    """
    starts: list[float] = []
    lengths: list[float] = []
    previous_start = 0.0
    previous_end = 0.0
    for line in lines:
        known = line.duration is not None and line.duration > 0
        length = line.duration if known and line.duration is not None else 0.0
        if not known:
            length = estimate_seconds(line.text)
        if line.at is None:
            start = previous_end
        elif line.reported_at_end and known:
            start = line.at - length
        else:
            start = line.at
        start = max(start, previous_start, 0.0)
        starts.append(start)
        lengths.append(length)
        previous_start, previous_end = start, start + length
    times: list[tuple[float, float]] = []
    for i, start in enumerate(starts):
        end = start + max(lengths[i], MIN_CUE_S)
        if i + 1 < len(starts) and start + MIN_CUE_S <= starts[i + 1] < end:
            end = starts[i + 1]
        times.append((round(start, 3), round(max(end, start + MIN_CUE_S), 3)))
    return times
