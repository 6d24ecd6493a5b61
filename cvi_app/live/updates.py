"""What a ConversationSession publishes to the tabs that show its conversation."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from cvi_app.protocol import Event, Interaction


def utc_now() -> datetime:
    """The current time, timezone-aware."""
    return datetime.now(UTC)


class _Update(BaseModel):
    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    at: datetime = Field(default_factory=utc_now)
    update_id: int = Field(
        default=0,
        description="The session's number for this update, increasing per conversation "
        "(0: not numbered, e.g. rebuilt from a row stored without one).",
    )


class EventReceived(_Update):
    """A checked, ordered, de-duplicated event from the replica."""

    kind: Literal["event"] = "event"
    event: Event
    raw: str = Field(default="", description="The event as compact JSON (`Event.to_json()`).")


class InteractionSent(_Update):
    """An interaction the app sent into the room."""

    kind: Literal["sent"] = "sent"
    interaction: Interaction


class ToolCallUpdate(_Update):
    """A tool call's progress: `pending` when asked, then `success` or `error` with the result."""

    kind: Literal["tool"] = "tool"
    tool_call_id: str
    name: str
    arguments: dict[str, Any]
    status: Literal["pending", "success", "error", "unhandled"]
    output: str | None = None
    latency_ms: float | None = None


class StatusChanged(_Update):
    """The session's life: `live` once joined, `ended` with the reason when it is over."""

    kind: Literal["status"] = "status"
    status: Literal["joining", "live", "ended"]
    reason: str | None = None


class Notice(_Update):
    """Something about the live call a person should know: a problem, or that it is over.

    `active` is True while the problem lasts (the room connection is lost, the replica has not
    answered) and False once it is resolved; a new notice on a `topic` replaces the last one.
    """

    kind: Literal["notice"] = "notice"
    topic: Literal["connection", "replica"]
    text: str
    active: bool


class SpeakingChanged(_Update):
    """Who is speaking now changed (the session's one view of it, from the speaking events)."""

    kind: Literal["speaking"] = "speaking"
    replica: bool
    user: bool


class PresentParticipant(BaseModel):
    """Someone in the call, as the room shows them."""

    model_config = ConfigDict(frozen=True)

    id: str
    name: str
    role: Literal["replica", "app", "person"]
    joined_at: datetime


class PresenceChanged(_Update):
    """Who is in the call (at most `MAX_SHOWN`), and the app's own link to the room."""

    MAX_SHOWN: ClassVar[int] = 20

    kind: Literal["presence"] = "presence"
    participants: list[PresentParticipant] = Field(default_factory=list)
    others: int = Field(default=0, description="People in the call beyond the ones listed.")
    link: Literal["joining", "connected", "reconnecting", "left"] = "joining"


class OperatorNote(_Update):
    """Someone of the team watched or steered the conversation (with accounts on).

    Shown in the Events panel of every tab on the conversation; the audit log keeps it.
    """

    kind: Literal["operator"] = "operator"
    actor: str = Field(max_length=254)
    action: str = Field(max_length=300)


LiveUpdate = (
    EventReceived
    | InteractionSent
    | ToolCallUpdate
    | StatusChanged
    | Notice
    | SpeakingChanged
    | PresenceChanged
    | OperatorNote
)
