"""Typed models of the events the app receives from the replica (PROTOCOL.md, "Events")."""

from __future__ import annotations

import json
from typing import Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    FiniteFloat,
    field_serializer,
    field_validator,
)

from .base import Envelope
from .common import ROLES, Role
from .raw import strict_json_loads

__all__ = [
    "EVENT_TYPES",
    "EmptyProperties",
    "Event",
    "EventProperties",
    "GenericEvent",
    "PalJoinedEvent",
    "PerceptionAnalysisEvent",
    "PerceptionAnalysisProperties",
    "PerceptionToolCallEvent",
    "PerceptionToolCallProperties",
    "ReplicaInterruptedEvent",
    "ReplicaJoinedEvent",
    "ReplicaStartedSpeakingEvent",
    "ReplicaStoppedSpeakingEvent",
    "JoinedProperties",
    "ShutdownEvent",
    "ShutdownProperties",
    "SpeakingStartedProperties",
    "SpeakingStoppedProperties",
    "StartedSpeakingEvent",
    "StoppedSpeakingEvent",
    "StoppedProperties",
    "StreamingUtteranceEvent",
    "StreamingUtteranceProperties",
    "ToolCallEvent",
    "ToolCallProperties",
    "UserStartedSpeakingEvent",
    "UserStoppedSpeakingEvent",
    "UtteranceEvent",
    "UtteranceProperties",
    "normalise_arguments",
]


class EventProperties(BaseModel):
    """Base of every event's properties: known keys are type-checked, unknown keys are kept."""

    model_config = ConfigDict(extra="allow", frozen=True, strict=True)


class EmptyProperties(EventProperties):
    """Properties of events that define none (anything sent is kept as extra keys)."""


class UtteranceProperties(EventProperties):
    """A finished utterance; a replica's arrives when it starts speaking, with the full reply."""

    role: Role
    speech: str
    interrupted: bool | None = None
    user_audio_analysis: str | None = None
    user_visual_analysis: str | None = None


class StreamingUtteranceProperties(EventProperties):
    """Cumulative text of an utterance in progress."""

    role: Role
    speech: str
    content_index: int | None = None
    final: bool | None = None
    is_interrupted: bool | None = None


def normalise_arguments(value: object) -> dict[str, Any]:
    """Turn tool-call arguments into a dict.

    Tavus sends arguments as a JSON string; some clients send an object. Both are accepted.

    Args:
        value: A JSON string holding an object, an empty string, None, or a dict.

    Returns:
        The arguments as a dict (empty for an empty string or None).

    Raises:
        ValueError: The value is not an object, nor JSON text holding one.
    """
    if value is None:
        return {}
    if isinstance(value, str):
        if not value.strip():
            return {}
        try:
            value = strict_json_loads(value)
        except RecursionError:
            raise ValueError("arguments nest too deeply") from None
        except ValueError as exc:
            raise ValueError(f"should be a JSON object or JSON text holding one ({exc})") from None
    if not isinstance(value, dict):
        raise ValueError(
            f"should be a JSON object or JSON text holding one, not {type(value).__name__}"
        )
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError, RecursionError):
        raise ValueError("should hold only JSON values") from None
    return value


class _ArgumentsProperties(EventProperties):
    arguments: dict[str, Any] = Field(default_factory=dict)

    @field_validator("arguments", mode="before")
    @classmethod
    def _normalise(cls, value: object) -> dict[str, Any]:
        return normalise_arguments(value)

    @field_serializer("arguments", when_used="json")
    def _as_json_text(self, value: dict[str, Any]) -> str:
        # On the wire Tavus sends arguments as a JSON string, so the sandbox replica does too.
        return json.dumps(value, ensure_ascii=False)


class ToolCallProperties(_ArgumentsProperties):
    """A tool the LLM asked the app to run; ``arguments`` is always a dict."""

    name: str
    tool_call_id: str | None = None


class PerceptionToolCallProperties(_ArgumentsProperties):
    """A perception tool triggered by what the replica saw or heard."""

    name: str
    modality: Literal["vision", "audio"] | None = None
    frames: list[Any] | None = None


class PerceptionAnalysisProperties(EventProperties):
    """The perception summary sent after the call ends."""

    analysis: str


class StoppedProperties(EventProperties):
    """End of someone's speech: how long it lasted (may be unknown) and whether it was cut off."""

    duration: FiniteFloat | None = None
    interrupted: bool | None = None


class SpeakingStartedProperties(EventProperties):
    """Start of someone's speech (newer role-carrying form)."""

    role: Role


class SpeakingStoppedProperties(StoppedProperties):
    """End of someone's speech (newer role-carrying form)."""

    role: Role


class JoinedProperties(EventProperties):
    """The replica (or pal) joined the room."""

    replica_id: str | None = None


class ShutdownProperties(EventProperties):
    """The conversation ended; Tavus names the cause ``shutdown_reason`` or ``reason``."""

    shutdown_reason: str | None = None
    reason: str | None = None


class Event(Envelope):
    """Envelope shared by every inbound event.

    Unknown top-level keys are kept (``extra="allow"``); known ones are type-checked, and
    ``seq``/``turn_idx`` must be real integers.
    """

    model_config = ConfigDict(extra="allow", frozen=True, strict=True)

    # A role every event of the class implicitly has (e.g. replica.started_speaking).
    implied_role: ClassVar[Role | None] = None

    message_type: str = "conversation"
    event_type: str
    conversation_id: str | None = None
    seq: int | None = None
    turn_idx: int | None = None
    inference_id: str | None = None
    timestamp: FiniteFloat | None = None
    properties: EventProperties | dict[str, Any] = Field(default_factory=EmptyProperties)

    @property
    def role(self) -> Role | None:
        """Whose event this is (user, replica or pal), when the event says or implies it."""
        if self.implied_role is not None:
            return self.implied_role
        props = self.properties
        value = props.get("role") if isinstance(props, dict) else getattr(props, "role", None)
        return value if value in ROLES else None

    def to_message(self) -> dict[str, Any]:
        """Return the event as a JSON-ready app-message, dropping fields that are None."""
        return self.model_dump(mode="json", exclude_none=True)

    def to_json(self) -> str:
        """Return the message as compact JSON (what the store keeps and the room log shows)."""
        return json.dumps(self.to_message(), separators=(",", ":"), ensure_ascii=False)


class UtteranceEvent(Event):
    """``conversation.utterance``: what the user said, or what the replica is about to say."""

    event_type: Literal["conversation.utterance"] = "conversation.utterance"
    properties: UtteranceProperties


class StreamingUtteranceEvent(Event):
    """``conversation.utterance.streaming``: cumulative text of an utterance in progress."""

    event_type: Literal["conversation.utterance.streaming"] = "conversation.utterance.streaming"
    properties: StreamingUtteranceProperties


class ToolCallEvent(Event):
    """``conversation.tool_call``: the LLM asks the app to run a tool."""

    event_type: Literal["conversation.tool_call"] = "conversation.tool_call"
    properties: ToolCallProperties


class PerceptionToolCallEvent(Event):
    """``conversation.perception_tool_call``: a perception tool fired."""

    event_type: Literal["conversation.perception_tool_call"] = "conversation.perception_tool_call"
    properties: PerceptionToolCallProperties


class PerceptionAnalysisEvent(Event):
    """``conversation.perception_analysis``: the perception summary after the call."""

    event_type: Literal["conversation.perception_analysis"] = "conversation.perception_analysis"
    properties: PerceptionAnalysisProperties


class ReplicaStartedSpeakingEvent(Event):
    """``conversation.replica.started_speaking``."""

    implied_role: ClassVar[Role | None] = "replica"
    event_type: Literal["conversation.replica.started_speaking"] = (
        "conversation.replica.started_speaking"
    )
    properties: EmptyProperties = Field(default_factory=EmptyProperties)


class ReplicaStoppedSpeakingEvent(Event):
    """``conversation.replica.stopped_speaking``: carries ``duration`` and ``interrupted``."""

    implied_role: ClassVar[Role | None] = "replica"
    event_type: Literal["conversation.replica.stopped_speaking"] = (
        "conversation.replica.stopped_speaking"
    )
    properties: StoppedProperties = Field(default_factory=StoppedProperties)


class UserStartedSpeakingEvent(Event):
    """``conversation.user.started_speaking``."""

    implied_role: ClassVar[Role | None] = "user"
    event_type: Literal["conversation.user.started_speaking"] = "conversation.user.started_speaking"
    properties: EmptyProperties = Field(default_factory=EmptyProperties)


class UserStoppedSpeakingEvent(Event):
    """``conversation.user.stopped_speaking``."""

    implied_role: ClassVar[Role | None] = "user"
    event_type: Literal["conversation.user.stopped_speaking"] = "conversation.user.stopped_speaking"
    properties: StoppedProperties = Field(default_factory=StoppedProperties)


class StartedSpeakingEvent(Event):
    """``conversation.started_speaking`` (newer): carries the speaker's ``role``."""

    event_type: Literal["conversation.started_speaking"] = "conversation.started_speaking"
    properties: SpeakingStartedProperties


class StoppedSpeakingEvent(Event):
    """``conversation.stopped_speaking`` (newer): ``role``, ``duration``, ``interrupted``."""

    event_type: Literal["conversation.stopped_speaking"] = "conversation.stopped_speaking"
    properties: SpeakingStoppedProperties


class ReplicaInterruptedEvent(Event):
    """``conversation.replica_interrupted`` (older): the top-level ``inference_id`` was cut off."""

    implied_role: ClassVar[Role | None] = "replica"
    event_type: Literal["conversation.replica_interrupted"] = "conversation.replica_interrupted"
    properties: EmptyProperties = Field(default_factory=EmptyProperties)


class ReplicaJoinedEvent(Event):
    """``system.replica_joined``."""

    implied_role: ClassVar[Role | None] = "replica"
    event_type: Literal["system.replica_joined"] = "system.replica_joined"
    properties: JoinedProperties = Field(default_factory=JoinedProperties)


class PalJoinedEvent(Event):
    """``system.pal_joined``: the newer twin of ``system.replica_joined``."""

    implied_role: ClassVar[Role | None] = "pal"
    event_type: Literal["system.pal_joined"] = "system.pal_joined"
    properties: JoinedProperties = Field(default_factory=JoinedProperties)


class ShutdownEvent(Event):
    """``system.shutdown``: the conversation ended."""

    event_type: Literal["system.shutdown"] = "system.shutdown"
    properties: ShutdownProperties = Field(default_factory=ShutdownProperties)

    @property
    def reason(self) -> str | None:
        """Why the conversation ended (``shutdown_reason``, else ``reason``)."""
        return self.properties.shutdown_reason or self.properties.reason


class GenericEvent(Event):
    """An event type this version does not know: kept whole, properties as a plain dict."""

    properties: dict[str, Any] = Field(default_factory=dict)


EVENT_TYPES: dict[str, type[Event]] = {
    cls.model_fields["event_type"].default: cls
    for cls in (
        UtteranceEvent,
        StreamingUtteranceEvent,
        ToolCallEvent,
        PerceptionToolCallEvent,
        PerceptionAnalysisEvent,
        ReplicaStartedSpeakingEvent,
        ReplicaStoppedSpeakingEvent,
        UserStartedSpeakingEvent,
        UserStoppedSpeakingEvent,
        StartedSpeakingEvent,
        StoppedSpeakingEvent,
        ReplicaInterruptedEvent,
        ReplicaJoinedEvent,
        PalJoinedEvent,
        ShutdownEvent,
    )
}
"""Known event types and the model that parses each; anything else is a GenericEvent."""
