"""Typed models of the webhooks Tavus POSTs to a conversation's ``callback_url``.

Tavus signs none of these: the receiving endpoint must check its own secret and accept only
conversation ids the app created. Webhooks may arrive more than once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import ConfigDict, Field, FiniteFloat, model_validator

from .base import Envelope
from .events import EventProperties, JoinedProperties, ShutdownProperties
from .raw import validate_message

__all__ = [
    "WEBHOOK_TYPES",
    "GenericWebhook",
    "PalJoinedWebhook",
    "PerceptionAnalysisWebhook",
    "PerceptionAnalysisWebhookProperties",
    "RecordingReadyProperties",
    "RecordingReadyWebhook",
    "ReplicaJoinedWebhook",
    "ShutdownWebhook",
    "TranscriptEntry",
    "TranscriptionReadyProperties",
    "TranscriptionReadyWebhook",
    "Webhook",
    "parse_webhook",
]


class TranscriptEntry(EventProperties):
    """One message of the final transcript (OpenAI-style roles)."""

    role: Literal["system", "user", "assistant", "tool"]
    # Null for an assistant message that only called tools.
    content: str | None = None
    # Newer entries only; Tavus has sent both Unix seconds and ISO text here.
    timestamp: FiniteFloat | str | None = None
    seconds_from_start: FiniteFloat | None = None
    duration: FiniteFloat | None = None
    inference_id: str | None = None


class TranscriptionReadyProperties(EventProperties):
    """Properties of ``application.transcription_ready``."""

    transcript: list[TranscriptEntry]


class RecordingReadyProperties(EventProperties):
    """Properties of ``application.recording_ready``, in either documented shape."""

    bucket_name: str | None = None
    s3_key: str | None = None
    duration: FiniteFloat | None = None
    storage_provider: str | None = None
    storage_uri: str | None = None

    @model_validator(mode="after")
    def _one_shape(self) -> RecordingReadyProperties:
        if self.storage_uri is None and (self.bucket_name is None or self.s3_key is None):
            raise ValueError("needs bucket_name and s3_key, or storage_uri")
        return self

    @property
    def location(self) -> str:
        """Where the recording is: ``storage_uri``, or ``s3://bucket_name/s3_key``."""
        if self.storage_uri is not None:
            return self.storage_uri
        return f"s3://{self.bucket_name}/{self.s3_key}"


class PerceptionAnalysisWebhookProperties(EventProperties):
    """Properties of ``application.perception_analysis``."""

    analysis: str


class Webhook(Envelope):
    """Envelope shared by every webhook; unknown keys are kept, known ones type-checked."""

    model_config = ConfigDict(extra="allow", frozen=True, strict=True)

    conversation_id: str = Field(min_length=1)
    event_type: str
    message_type: Literal["system", "application"]
    # ISO 8601 text on the wire; lax so the text (or a datetime built in code) is accepted.
    timestamp: datetime | None = Field(default=None, strict=False)
    webhook_url: str | None = None
    properties: EventProperties | dict[str, Any] = Field(default_factory=EventProperties)

    def to_message(self) -> dict[str, Any]:
        """Return the webhook as a JSON-ready payload (what the sandbox POSTs), Nones dropped."""
        return self.model_dump(mode="json", exclude_none=True)


class ReplicaJoinedWebhook(Webhook):
    """``system.replica_joined``."""

    event_type: Literal["system.replica_joined"] = "system.replica_joined"
    message_type: Literal["system", "application"] = "system"
    properties: JoinedProperties = Field(default_factory=JoinedProperties)


class PalJoinedWebhook(Webhook):
    """``system.pal_joined``: the same fact as ``system.replica_joined``."""

    event_type: Literal["system.pal_joined"] = "system.pal_joined"
    message_type: Literal["system", "application"] = "system"
    properties: JoinedProperties = Field(default_factory=JoinedProperties)


class ShutdownWebhook(Webhook):
    """``system.shutdown``."""

    event_type: Literal["system.shutdown"] = "system.shutdown"
    message_type: Literal["system", "application"] = "system"
    properties: ShutdownProperties = Field(default_factory=ShutdownProperties)

    @property
    def reason(self) -> str | None:
        """Why the conversation ended (``shutdown_reason``, else ``reason``)."""
        return self.properties.shutdown_reason or self.properties.reason


class TranscriptionReadyWebhook(Webhook):
    """``application.transcription_ready``: the whole transcript after the call."""

    event_type: Literal["application.transcription_ready"] = "application.transcription_ready"
    message_type: Literal["system", "application"] = "application"
    properties: TranscriptionReadyProperties


class RecordingReadyWebhook(Webhook):
    """``application.recording_ready``."""

    event_type: Literal["application.recording_ready"] = "application.recording_ready"
    message_type: Literal["system", "application"] = "application"
    properties: RecordingReadyProperties


class PerceptionAnalysisWebhook(Webhook):
    """``application.perception_analysis``."""

    event_type: Literal["application.perception_analysis"] = "application.perception_analysis"
    message_type: Literal["system", "application"] = "application"
    properties: PerceptionAnalysisWebhookProperties


class GenericWebhook(Webhook):
    """A webhook type this version does not know, properties kept as a plain dict."""

    properties: dict[str, Any] = Field(default_factory=dict)


WEBHOOK_TYPES: dict[str, type[Webhook]] = {
    cls.model_fields["event_type"].default: cls
    for cls in (
        ReplicaJoinedWebhook,
        PalJoinedWebhook,
        ShutdownWebhook,
        TranscriptionReadyWebhook,
        RecordingReadyWebhook,
        PerceptionAnalysisWebhook,
    )
}
"""Known webhook types and their models; any other type is a GenericWebhook."""


def parse_webhook(raw: str | bytes | dict[str, Any]) -> Webhook:
    """Parse one webhook body into its typed model.

    Args:
        raw: The request body (JSON text or bytes) or an already decoded dict.

    Returns:
        The webhook, as the model registered for its type in WEBHOOK_TYPES, else GenericWebhook.

    Raises:
        ProtocolError: The body is not a valid webhook. Nothing else is raised.
    """
    return validate_message(raw, _webhook_model, what="webhook")


def _webhook_model(event_type: str) -> type[Webhook]:
    return WEBHOOK_TYPES.get(event_type, GenericWebhook)
