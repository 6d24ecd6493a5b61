"""`LiveSummary`: one live conversation at a glance, for the operator console.

A session keeps its summary up to date as it publishes (`SummaryTracker.observe` sees every
update, O(1) each), so asking for it costs nothing: no store query, no walk over the
conversation. In the cluster each process publishes the summaries of the sessions it holds
(`cvi_app.live.cluster.summaries`), so a console on any process sees every conversation.
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import datetime

from pydantic import BaseModel, Field

from cvi_app.live.updates import (
    EventReceived,
    LiveUpdate,
    PresenceChanged,
    StatusChanged,
    ToolCallUpdate,
)
from cvi_app.presentation.text import short
from cvi_app.protocol import UtteranceEvent
from cvi_app.store.types import utc_now

__all__ = ["LAST_LINE_CHARS", "LiveSummary", "SummaryTracker"]

LAST_LINE_CHARS = 200
_MAX_LISTED = 10


class LiveSummary(BaseModel):
    """What the console shows of one live conversation (bounded: names and lines are cut)."""

    conversation_id: str = Field(max_length=200)
    status: str = Field(default="joining", max_length=20)
    since: datetime = Field(default_factory=utc_now)
    """When the session holding it started (or took it over)."""
    people: list[str] = Field(default_factory=list, max_length=_MAX_LISTED)
    """Names of the people in the call (the replica and the app not counted)."""
    others: int = 0
    link: str = Field(default="joining", max_length=20)
    replica_speaking: bool = False
    user_speaking: bool = False
    last_speaker: str = Field(default="", max_length=20)
    last_line: str = Field(default="", max_length=LAST_LINE_CHARS)
    last_line_at: datetime | None = None
    open_tool_calls: list[str] = Field(default_factory=list, max_length=_MAX_LISTED)
    """Names of the tool calls waiting for an answer."""
    tool_errors: int = 0
    replica_silent: bool = False
    """The replica has not answered the last turn in time."""
    at: datetime = Field(default_factory=utc_now)
    """When this summary was taken."""


class SummaryTracker:
    """Folds a session's updates into its summary as they are published."""

    def __init__(self, conversation_id: str) -> None:
        self._summary = LiveSummary(conversation_id=conversation_id)
        self._pending: OrderedDict[str, str] = OrderedDict()

    def observe(self, update: LiveUpdate) -> None:
        """Take one published update into account."""
        s = self._summary
        match update:
            case EventReceived(event=UtteranceEvent() as event):
                speech = event.properties.speech or ""
                if speech.strip():
                    s.last_speaker = event.properties.role or ""
                    s.last_line = short(" ".join(speech.split()), LAST_LINE_CHARS)
                    s.last_line_at = update.at
            case ToolCallUpdate():
                if update.status in ("pending", "unhandled"):
                    self._pending[update.tool_call_id] = update.name
                    while len(self._pending) > 100:
                        self._pending.popitem(last=False)
                else:
                    self._pending.pop(update.tool_call_id, None)
                    if update.status == "error":
                        s.tool_errors += 1
            case PresenceChanged():
                people = [p.name for p in update.participants if p.role == "person"]
                s.people = [short(name, 60) for name in people[:_MAX_LISTED]]
                s.others = update.others + max(0, len(people) - _MAX_LISTED)
                s.link = update.link
            case StatusChanged():
                s.status = update.status
            case _:
                pass

    def summary(
        self, *, replica_speaking: bool, user_speaking: bool, replica_silent: bool
    ) -> LiveSummary:
        """The summary now, with what the session knows at this moment."""
        return self._summary.model_copy(
            update={
                "replica_speaking": replica_speaking,
                "user_speaking": user_speaking,
                "replica_silent": replica_silent,
                "open_tool_calls": list(self._pending.values())[-_MAX_LISTED:],
                "at": utc_now(),
            }
        )
