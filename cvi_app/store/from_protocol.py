"""The one place that maps protocol models to the store's create shapes."""

from __future__ import annotations

from datetime import UTC, datetime

from cvi_app.protocol import (
    Event,
    Interaction,
    PerceptionAnalysisEvent,
    StreamingUtteranceEvent,
    TranscriptionReadyWebhook,
    UtteranceEvent,
    Webhook,
)
from cvi_app.store.models import (
    EventSource,
    NewEvent,
    TranscriptLineCreate,
    WebhookDeliveryCreate,
)
from cvi_app.store.types import utc_now

__all__ = [
    "new_event_from_interaction",
    "new_event_from_protocol",
    "transcript_lines_from_webhook",
    "webhook_delivery_from_protocol",
]


def new_event_from_protocol(
    event: Event,
    *,
    source: EventSource,
    raw: str | None = None,
    conversation_id: str | None = None,
    received_at: datetime | None = None,
    update_id: int | None = None,
) -> NewEvent:
    """The row for an inbound event.

    Args:
        event: The parsed event.
        source: `room` for app-messages, `webhook` for webhook bodies.
        raw: The JSON text as received (default: the event re-serialised).
        conversation_id: Used when the event omits its own (Tavus may leave it out).
        received_at: When it arrived (default: now).
        update_id: The live session's number for the update this event was published as.

    Returns:
        The create shape for `EventWriter` or `insert_events`.

    Raises:
        ValueError: Neither the event nor the caller names the conversation.
    """
    cid = event.conversation_id or conversation_id
    if not cid:
        raise ValueError(f"{event.event_type} event has no conversation_id")
    return NewEvent(
        conversation_id=cid,
        event_type=event.event_type,
        source=source,
        raw=raw if raw is not None else event.to_json(),
        seq=event.seq,
        turn_idx=event.turn_idx,
        inference_id=event.inference_id,
        role=event.role,
        text=_event_text(event),
        sent_at=_from_unix(event.timestamp),
        received_at=received_at or utc_now(),
        update_id=update_id,
    )


def new_event_from_interaction(
    interaction: Interaction, *, sent_at: datetime | None = None, update_id: int | None = None
) -> NewEvent:
    """The row for an interaction the app sent into the room (`source="app"`).

    `update_id` is the live session's number for the update the send was published as. The
    row keeps the interaction's wire JSON, made when it was built.
    """
    text = getattr(interaction.properties, "text", None)
    return NewEvent(
        conversation_id=interaction.conversation_id,
        event_type=interaction.event_type,
        source="app",
        raw=interaction.to_json(),
        role="user" if interaction.event_type == "conversation.respond" else None,
        text=text if isinstance(text, str) else None,
        received_at=sent_at or utc_now(),
        sent_at=sent_at,
        update_id=update_id,
    )


def webhook_delivery_from_protocol(
    webhook: Webhook, *, payload: str, received_at: datetime | None = None
) -> WebhookDeliveryCreate:
    """The row for a webhook delivery; `payload` is the request body as received."""
    return WebhookDeliveryCreate(
        conversation_id=webhook.conversation_id,
        event_type=webhook.event_type,
        message_type=webhook.message_type,
        payload=payload,
        received_at=received_at or utc_now(),
    )


def transcript_lines_from_webhook(webhook: TranscriptionReadyWebhook) -> list[TranscriptLineCreate]:
    """The official transcript's lines, in order, from `application.transcription_ready`."""
    return [
        TranscriptLineCreate(
            role=entry.role,
            content=entry.content,
            inference_id=entry.inference_id,
            spoken_at=_parse_time(entry.timestamp),
            seconds_from_start=entry.seconds_from_start,
            duration=entry.duration,
        )
        for entry in webhook.properties.transcript
    ]


def _event_text(event: Event) -> str | None:
    if isinstance(event, UtteranceEvent | StreamingUtteranceEvent):
        return event.properties.speech
    if isinstance(event, PerceptionAnalysisEvent):
        return event.properties.analysis
    return None


def _from_unix(seconds: float | None) -> datetime | None:
    if seconds is None:
        return None
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _parse_time(value: float | str | None) -> datetime | None:
    """Tavus has sent transcript timestamps as Unix seconds and as ISO text."""
    if value is None or isinstance(value, float | int):
        return _from_unix(value)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
