"""The room's live side: what a tab shows as a conversation's updates arrive.

`RoomFeed` folds one tab's updates (restored, then live) into `RoomChanges`: transcript line
changes, event rows, tool-call rows, status, notices and who is speaking. The room state
applies those to three small states, so each event sends only what changed: `SpeakingState`
(two booleans and a caption), `FeedState` (each push sent once, see `feed.py`) and the room's own
status and tool rows.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import reflex as rx

from cvi_app.live.tool_calls import MAX_UNANSWERED
from cvi_app.live.updates import (
    EventReceived,
    LiveUpdate,
    Notice,
    PresenceChanged,
    SpeakingChanged,
    StatusChanged,
    ToolCallUpdate,
)
from cvi_app.presentation.live_feed import FeedPresenter
from cvi_app.presentation.rows import tool_row
from cvi_app.presentation.text import caption_tail
from cvi_app.protocol import (
    Event,
    ReplicaInterruptedEvent,
    ReplicaStoppedSpeakingEvent,
    StoppedSpeakingEvent,
    StreamingUtteranceEvent,
)
from cvi_app.state.feed import RING, empty_feed, number_items, reset_feed, ring_slot

__all__ = [
    "MAX_TOOL_ROWS",
    "FeedState",
    "RoomChanges",
    "RoomFeed",
    "PresenceState",
    "SpeakingState",
    "presence_rows",
]

Item = dict[str, Any]

MAX_TOOL_ROWS = 20
"""Finished tool calls the panel shows (the latest); calls waiting for an answer always show."""


class SpeakingState(rx.State):
    """Who is speaking right now, and the replica's current words (changes often; kept tiny).

    The one view of it on the page: the status badges and the call's tile both show this.
    """

    replica: bool = False
    user: bool = False
    caption: str = ""


class FeedState(rx.State):
    """The transcript and event-log feeds: a history sent on a reset, then a ring of pushes.

    `transcript` and `events` hold each feed's history; `transcript_0`... its ring of slots,
    each holding one push (see `feed.py`).
    """

    transcript: dict[str, Any] = empty_feed()
    events: dict[str, Any] = empty_feed()
    transcript_0: list[Item] = []
    transcript_1: list[Item] = []
    transcript_2: list[Item] = []
    transcript_3: list[Item] = []
    transcript_4: list[Item] = []
    transcript_5: list[Item] = []
    events_0: list[Item] = []
    events_1: list[Item] = []
    events_2: list[Item] = []
    events_3: list[Item] = []
    events_4: list[Item] = []
    events_5: list[Item] = []
    # Each feed numbers its own updates (the browser detects a missed one by a gap) and counts
    # its pushes (which slot is next).
    _transcript_u: int = 0
    _events_u: int = 0
    _transcript_pushes: int = 0
    _events_pushes: int = 0

    @classmethod
    def updates(cls, feed: str) -> rx.Var:
        """A feed's ring of pushes, as one value for the `live_feed` component."""
        return rx.Var.create([getattr(cls, f"{feed}_{slot}") for slot in range(RING)])

    def show(self, lines: list[Item], rows: list[Item], *, reset: bool) -> None:
        """Add line changes and rows to the feeds, or rebuild them from these (`reset`)."""
        if reset:
            self.transcript = reset_feed(self.transcript, merge_lines(lines), self._transcript_u)
            self.events = reset_feed(self.events, rows, self._events_u)
            return
        if lines:
            self._push("transcript", lines)
        if rows:
            self._push("events", rows)

    def _push(self, feed: str, items: list[Item]) -> None:
        """Put one push in the feed's next slot: only that slot goes to the browser."""
        numbered, counter = number_items(items, getattr(self, f"_{feed}_u"))
        pushes = getattr(self, f"_{feed}_pushes")
        setattr(self, f"{feed}_{ring_slot(pushes)}", numbered)
        setattr(self, f"_{feed}_u", counter)
        setattr(self, f"_{feed}_pushes", pushes + 1)

    def clear(self) -> None:
        """Show nothing, and hold nothing a browser could read (it may not see this conversation)."""
        self.show([], [], reset=True)
        for feed in ("transcript", "events"):
            for slot in range(RING):
                if getattr(self, f"{feed}_{slot}"):
                    setattr(self, f"{feed}_{slot}", [])


class PresenceState(rx.State):
    """Who is in the call and the app's own link to the room (changes rarely)."""

    participants: list[dict[str, str]] = []
    others: int = 0
    link: str = ""

    def show(self, presence: PresenceChanged) -> None:
        """Show who is in the call now."""
        self.participants = presence_rows(presence)
        self.others, self.link = presence.others, presence.link

    def clear(self) -> None:
        """Show nobody (the tab may not see this conversation)."""
        self.participants, self.others, self.link = [], 0, ""


@dataclass
class RoomChanges:
    """What a batch of updates changes in the room."""

    lines: list[Item] = field(default_factory=list)
    rows: list[Item] = field(default_factory=list)
    status: StatusChanged | None = None
    notices: list[Notice] = field(default_factory=list)
    speaking: SpeakingChanged | None = None
    caption: str | None = None
    presence: PresenceChanged | None = None
    tools_changed: bool = False


class RoomFeed:
    """Folds one tab's stream of updates into what its room shows; one per stream."""

    def __init__(self) -> None:
        self._presenter = FeedPresenter()
        self._tools: OrderedDict[str, dict[str, str]] = OrderedDict()

    def fold(self, updates: list[LiveUpdate]) -> RoomChanges:
        """The changes a batch of updates makes, in order (the last status and speaking win)."""
        changes = RoomChanges()
        for update in updates:
            lines, row = self._presenter.present(update)
            changes.lines.extend(lines)
            if row is not None:
                changes.rows.append(row)
            match update:
                case ToolCallUpdate():
                    self._tools.pop(update.tool_call_id, None)
                    self._tools[update.tool_call_id] = tool_row(update)
                    changes.tools_changed = True
                case StatusChanged():
                    changes.status = update
                case Notice():
                    changes.notices.append(update)
                case SpeakingChanged():
                    changes.speaking = update
                    if not update.replica:
                        changes.caption = ""
                case PresenceChanged():
                    changes.presence = update
                case EventReceived():
                    caption = _caption(update.event)
                    if caption is not None:
                        changes.caption = caption
        if changes.tools_changed:
            self._forget_old_tools()
        return changes

    def tool_rows(self) -> list[dict[str, str]]:
        """The tool panel's rows, oldest first: every call still waiting, and the latest others."""
        return list(self._tools.values())

    def _forget_old_tools(self) -> None:
        waiting = [key for key, row in self._tools.items() if row["status"] == "unhandled"]
        finished = [key for key, row in self._tools.items() if row["status"] != "unhandled"]
        # The session itself forgets waiting calls past MAX_UNANSWERED: so does the panel.
        for key in [*waiting[:-MAX_UNANSWERED], *finished[:-MAX_TOOL_ROWS]]:
            del self._tools[key]


def _caption(event: Event) -> str | None:
    """The caption an event shows (None: it leaves the caption as it is)."""
    match event:
        case StreamingUtteranceEvent() if event.properties.role != "user":
            return "" if event.properties.is_interrupted else caption_tail(event.properties.speech)
        case ReplicaStoppedSpeakingEvent() | ReplicaInterruptedEvent():
            return ""
        case StoppedSpeakingEvent() if event.properties.role != "user":
            return ""
    return None


def presence_rows(presence: PresenceChanged) -> list[dict[str, str]]:
    """Who is in the call, as the participants panel lists them."""
    roles = {"replica": "the replica", "app": "this app, in the call", "person": "a person"}
    return [
        {
            "id": participant.id,
            "name": participant.name,
            "role": roles[participant.role],
            "joined": participant.joined_at.strftime("%H:%M:%S"),
        }
        for participant in presence.participants
    ]


def merge_lines(lines: list[Item]) -> list[Item]:
    """Fold partial line updates into whole lines (for a reset, sent in one piece)."""
    merged: dict[str, Item] = {}
    for line in lines:
        merged[line["id"]] = {**merged.get(line["id"], {}), **line}
    return list(merged.values())
