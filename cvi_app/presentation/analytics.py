"""How a conversation's figures read on its history page, and its timeline as chart data."""

from __future__ import annotations

from cvi_app.analytics.figures import ConversationFigures
from cvi_app.presentation.console import duration_words
from cvi_app.presentation.text import end_reason_sentence

__all__ = ["MAX_BUCKETS", "figure_facts", "seconds", "timeline_data", "tool_rows", "turn_rows"]

MAX_BUCKETS = 300
"""Points of the timeline chart (each a slice of the conversation's time)."""


def seconds(value: float | None) -> str:
    """Seconds as the page shows them ("1.25 s"); "not measured" when unknown."""
    return "not measured" if value is None else f"{value:.2f} s"


def figure_facts(f: ConversationFigures) -> list[dict[str, str]]:
    """The figures as labelled facts, in reading order."""
    share = f.replica_share
    talk = (
        "nobody spoke"
        if share is None
        else f"replica {seconds(f.replica_talk_s)} ({share:.0%}), "
        f"user {seconds(f.user_talk_s)} ({1 - share:.0%})"
    )
    rate = f.tool_success_rate
    tools = (
        "none"
        if not f.tools
        else f"{len(f.tools)}, " + ("none finished" if rate is None else f"{rate:.0%} succeeded")
    )
    return [
        {
            "label": "Duration",
            "value": "still live" if f.duration_s is None else duration_words(f.duration_s),
        },
        {"label": "Start to replica joined", "value": seconds(f.to_replica_joined_s)},
        {"label": "Start to first utterance", "value": seconds(f.to_first_utterance_s)},
        {"label": "Answered turns", "value": str(len(f.turns))},
        {"label": "Response latency, median", "value": seconds(f.median_latency_s)},
        {"label": "Response latency, p90", "value": seconds(f.p90_latency_s)},
        {"label": "Talk time", "value": talk},
        {
            "label": "Interruptions",
            "value": f"{f.interruptions} (interrupts sent by the app: {f.interrupts_sent})",
        },
        {"label": "Tool calls", "value": tools},
        {"label": "End reason", "value": end_reason_sentence(f.end_reason) or "not ended yet"},
    ]


def turn_rows(f: ConversationFigures, limit: int = 200) -> list[dict[str, str]]:
    """Each answered turn: when, what it answered, how long the replica took (the first ones)."""
    answered = {"user": "the user stopped speaking", "respond": "a respond was sent"}
    return [
        {
            "n": str(n),
            "at": seconds(turn.at_s),
            "after": answered.get(turn.trigger, turn.trigger),
            "latency": seconds(turn.latency_s),
        }
        for n, turn in enumerate(f.turns[:limit], start=1)
    ]


def tool_rows(f: ConversationFigures, limit: int = 200) -> list[dict[str, str]]:
    """Each tool call: name, when, latency, outcome."""
    return [
        {
            "name": t.name,
            "at": seconds(t.at_s),
            "latency": "not finished" if t.latency_ms is None else f"{t.latency_ms:.0f} ms",
            "status": t.status,
        }
        for t in f.tools[:limit]
    ]


def timeline_data(f: ConversationFigures) -> list[dict[str, float]]:
    """Who spoke when, as at most `MAX_BUCKETS` slices: each slice's share of speech (0..1)."""
    end = f.duration_s or max((p.end_s for p in f.timeline), default=0.0)
    if end <= 0:
        return []
    width = max(end / MAX_BUCKETS, 0.1)
    count = min(MAX_BUCKETS, int(end / width) + 1)
    lanes = {"replica": [0.0] * count, "user": [0.0] * count}
    for span in f.timeline:
        lane = lanes.get(span.speaker)
        if lane is None:
            continue
        first, last = int(span.start_s / width), min(int(span.end_s / width), count - 1)
        for i in range(first, last + 1):
            overlap = min(span.end_s, (i + 1) * width) - max(span.start_s, i * width)
            lane[i] = min(1.0, lane[i] + max(0.0, overlap) / width)
    return [
        {
            "t": round(i * width, 2),
            "replica": round(lanes["replica"][i], 3),
            "user": round(lanes["user"][i], 3),
        }
        for i in range(count)
    ]
