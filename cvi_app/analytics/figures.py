"""One conversation's figures: how fast the replica answered, who talked, tools, the end.

Pure functions over `Moment`s (the stored events the figures need, in the order they arrived).
Every time is the app's own clock when it received (or sent) the event (`received_at`), so
the figures of a conversation are comparable with each other whatever the replica's clock.
"""

from __future__ import annotations

import statistics
from datetime import datetime

from pydantic import BaseModel, Field

__all__ = [
    "MAX_SPANS",
    "ConversationFigures",
    "Moment",
    "TimelineMark",
    "TimelinePoint",
    "ToolFigure",
    "Turn",
    "conversation_figures",
    "percentile",
]

MAX_SPANS = 300
"""Speaking spans kept for the timeline (the earliest; the figures say when some are left out)."""
MAX_MARKS = 50

REPLICA_STARTS = ("conversation.replica.started_speaking", "conversation.started_speaking")
REPLICA_STOPS = ("conversation.replica.stopped_speaking", "conversation.stopped_speaking")
USER_START = "conversation.user.started_speaking"
USER_STOP = "conversation.user.stopped_speaking"
RESPOND = "conversation.respond"
INTERRUPT_SENT = "conversation.interrupt"
INTERRUPTED = "conversation.replica_interrupted"
JOINED = "system.replica_joined"
UTTERANCE = "conversation.utterance"
NEEDED_TYPES = (
    *REPLICA_STARTS,
    *REPLICA_STOPS,
    USER_START,
    USER_STOP,
    RESPOND,
    INTERRUPT_SENT,
    INTERRUPTED,
    JOINED,
    UTTERANCE,
)
"""The event types the figures read (the store is asked for these only)."""


class Moment(BaseModel):
    """One stored event, as much as the figures need of it."""

    event_type: str
    source: str
    role: str | None = None
    at: datetime


class ToolFigure(BaseModel):
    """One tool call: its name, how long it took, how it ended."""

    name: str
    at_s: float
    latency_ms: float | None
    status: str


class Turn(BaseModel):
    """One replica turn that answered something."""

    at_s: float
    """Seconds from the start of the conversation to when the replica started speaking."""
    trigger: str
    """What it answered: "user" (the user stopped speaking) or "respond" (the app sent one)."""
    latency_s: float


class TimelinePoint(BaseModel):
    """One speaking span of the timeline (seconds from the start)."""

    speaker: str
    start_s: float
    end_s: float


class TimelineMark(BaseModel):
    """A moment marked on the timeline: a tool call or an interruption."""

    kind: str
    at_s: float
    label: str


class ConversationFigures(BaseModel):
    """Everything the history page and the insights show of one conversation."""

    conversation_id: str
    persona_id: str | None = None
    started_at: datetime
    duration_s: float | None = None
    to_replica_joined_s: float | None = None
    to_first_utterance_s: float | None = None
    turns: list[Turn] = Field(default_factory=list)
    median_latency_s: float | None = None
    p90_latency_s: float | None = None
    replica_talk_s: float = 0.0
    user_talk_s: float = 0.0
    interruptions: int = 0
    interrupts_sent: int = 0
    tools: list[ToolFigure] = Field(default_factory=list)
    end_reason: str | None = None
    page_id: int | None = None
    """The public page a visitor started it from (read from the row each time, not cached)."""
    rating: int | None = None
    """The visitor's 1-5 rating (given after the end: read from the row each time)."""
    timeline: list[TimelinePoint] = Field(default_factory=list)
    timeline_cut: bool = False
    marks: list[TimelineMark] = Field(default_factory=list)
    """Tool calls and interruptions, the earliest `MAX_MARKS`."""

    @property
    def replica_share(self) -> float | None:
        """The replica's part of the talk time (0..1), None when nobody spoke."""
        total = self.replica_talk_s + self.user_talk_s
        return self.replica_talk_s / total if total else None

    @property
    def tool_success_rate(self) -> float | None:
        """Tool calls that succeeded, of those that finished (0..1), None without any."""
        finished = [t for t in self.tools if t.status in ("success", "error")]
        if not finished:
            return None
        return sum(t.status == "success" for t in finished) / len(finished)


def percentile(values: list[float], share: float) -> float | None:
    """The value `share` (0..1) of the way up `values` (linear between ranks), None if empty."""
    if not values:
        return None
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    rank = share * (len(ordered) - 1)
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def conversation_figures(
    *,
    conversation_id: str,
    started_at: datetime,
    ended_at: datetime | None,
    end_reason: str | None,
    moments: list[Moment],
    tools: list[ToolFigure] | None = None,
    persona_id: str | None = None,
) -> ConversationFigures:
    """The figures of one conversation.

    Args:
        conversation_id: The conversation.
        started_at: When the app created it (the zero of every "seconds from the start").
        ended_at: When it ended, if it has.
        end_reason: Why it ended, as recorded.
        moments: Its stored events of `NEEDED_TYPES` (and the `system.replica_joined` webhook),
            in the order they arrived.
        tools: Its tool calls, their `at_s` from the start.
        persona_id: Its persona (for the insights' filter).
    """

    def since(at: datetime) -> float:
        return max(0.0, (at - started_at).total_seconds())

    figures = ConversationFigures(
        conversation_id=conversation_id,
        persona_id=persona_id,
        started_at=started_at,
        duration_s=since(ended_at) if ended_at else None,
        end_reason=end_reason,
        tools=tools or [],
    )
    trigger: tuple[str, datetime] | None = None
    open_since: dict[str, datetime] = {}
    spans: list[TimelinePoint] = []
    marks = [TimelineMark(kind="tool", at_s=t.at_s, label=t.name) for t in figures.tools]

    def close(speaker: str, at: datetime) -> None:
        began = open_since.pop(speaker, None)
        if began is None:
            return
        seconds = max(0.0, (at - began).total_seconds())
        if speaker == "replica":
            figures.replica_talk_s += seconds
        else:
            figures.user_talk_s += seconds
        spans.append(TimelinePoint(speaker=speaker, start_s=since(began), end_s=since(at)))

    for moment in moments:
        kind, at = moment.event_type, moment.at
        if kind == JOINED and figures.to_replica_joined_s is None:
            figures.to_replica_joined_s = since(at)
        elif kind == UTTERANCE and moment.role in ("replica", "assistant"):
            if figures.to_first_utterance_s is None:
                figures.to_first_utterance_s = since(at)
        elif kind in REPLICA_STARTS:
            if "replica" not in open_since:
                open_since["replica"] = at
                if trigger is not None:
                    latency = max(0.0, (at - trigger[1]).total_seconds())
                    figures.turns.append(
                        Turn(at_s=since(at), trigger=trigger[0], latency_s=latency)
                    )
                    trigger = None
        elif kind in REPLICA_STOPS:
            close("replica", at)
        elif kind == USER_START:
            open_since.setdefault("user", at)
        elif kind == USER_STOP:
            close("user", at)
            trigger = ("user", at)
        elif kind == RESPOND and moment.source == "app":
            # A typed turn: the replica answers the send unless the user then speaks it.
            trigger = ("respond", at)
        elif kind == INTERRUPT_SENT and moment.source == "app":
            figures.interrupts_sent += 1
        elif kind == INTERRUPTED:
            figures.interruptions += 1
            marks.append(TimelineMark(kind="interruption", at_s=since(at), label="interrupted"))
    if figures.to_replica_joined_s is None:
        # Without the webhook (not delivered, or not yet), the replica's first word in the room.
        first = next((m for m in moments if m.source == "room"), None)
        figures.to_replica_joined_s = since(first.at) if first is not None else None
    end = ended_at or (moments[-1].at if moments else None)
    if end is not None:
        for speaker in list(open_since):
            close(speaker, max(end, open_since[speaker]))
    latencies = [t.latency_s for t in figures.turns]
    figures.median_latency_s = statistics.median(latencies) if latencies else None
    figures.p90_latency_s = percentile(latencies, 0.9)
    figures.timeline, figures.timeline_cut = _bounded(spans)
    figures.marks = sorted(marks, key=lambda m: m.at_s)[:MAX_MARKS]
    return figures


def _bounded(spans: list[TimelinePoint]) -> tuple[list[TimelinePoint], bool]:
    """At most `MAX_SPANS` spans: the earliest ones, and whether any were left out."""
    ordered = sorted(spans, key=lambda s: s.start_s)
    return ordered[:MAX_SPANS], len(ordered) > MAX_SPANS
