"""What a checked webhook does to the store: one transaction per delivery.

The delivery is recorded first (`record_webhook_delivery`); only a new delivery acts on the
conversation, so a redelivered webhook changes nothing. Recording and acting share the
caller's transaction: a delivery is never stored without its effect.

`system.shutdown` is the exception: Tavus signs nothing, so its word alone ends nothing. The
delivery is stored here; the endpoint asks the API and, once it confirms the end, records it
with `record_verified_end`.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Literal

from sqlmodel import Session

from cvi_app.protocol import (
    RecordingReadyWebhook,
    ShutdownWebhook,
    TranscriptionReadyWebhook,
    Webhook,
)
from cvi_app.store import (
    get_conversation,
    record_webhook_delivery,
    save_official_transcript,
    transcript_lines_from_webhook,
    update_conversation_status,
    webhook_delivery_from_protocol,
)
from cvi_app.store.conversations import EndReporter

__all__ = ["IngestOutcome", "ingest_webhook", "record_verified_end"]

logger = logging.getLogger(__name__)

IngestOutcome = Literal["stored", "duplicate", "unknown_conversation"]

# Longest shutdown reason kept: Tavus's are short phrases; the record is shown to people.
MAX_REASON_CHARS = 300
# Longest recording location kept (the column's width).
MAX_LOCATION_CHARS = 2048


def ingest_webhook(
    session: Session, *, webhook: Webhook, payload: str, received_at: datetime
) -> IngestOutcome:
    """Store one webhook delivery and apply it to its conversation.

    Args:
        session: The caller's session (the caller commits).
        webhook: The parsed webhook.
        payload: The body to keep (already stripped of the URL secret).
        received_at: When the request arrived.

    Returns:
        `unknown_conversation` when the app never created that conversation (nothing stored),
        `duplicate` for a redelivery (nothing changed), else `stored`.
    """
    cid = webhook.conversation_id
    if get_conversation(session, conversation_id=cid) is None:
        return "unknown_conversation"
    delivery = webhook_delivery_from_protocol(webhook, payload=payload, received_at=received_at)
    if not record_webhook_delivery(session, delivery=delivery):
        return "duplicate"
    if isinstance(webhook, TranscriptionReadyWebhook):
        stored = save_official_transcript(
            session, conversation_id=cid, lines=transcript_lines_from_webhook(webhook)
        )
        logger.info("conversation %s: official transcript replaced (%d lines)", cid, stored)
    elif isinstance(webhook, RecordingReadyWebhook):
        _record_recording(session, cid, webhook.properties.location)
    return "stored"


def _record_recording(session: Session, cid: str, location: str) -> None:
    """Keep where the recording is, bounded and printable: the history page shows it."""
    location = "".join(ch for ch in location if ch.isprintable())[:MAX_LOCATION_CHARS]
    conversation = get_conversation(session, conversation_id=cid)
    if conversation is None or not location:
        return
    conversation.recording_location = location
    session.add(conversation)
    logger.info("conversation %s: recording ready", cid)


def record_verified_end(
    session: Session,
    *,
    webhook: ShutdownWebhook,
    reason: str | None,
    reported_by: EndReporter,
    received_at: datetime,
) -> bool:
    """Record the end a `system.shutdown` reported, once the API has confirmed it.

    The webhook's timestamp is its sender's claim: it is used only when it falls between the
    conversation's creation and the webhook's arrival, else the arrival time is.

    Args:
        session: The caller's session (the caller commits).
        webhook: The shutdown webhook.
        reason: The reason to record (the API's own when it gave one, else the webhook's).
        reported_by: `app` when the reason is the API's, `webhook` when it is the webhook's.
        received_at: When the webhook arrived.

    Returns:
        False when the conversation is not stored.
    """
    conversation = get_conversation(session, conversation_id=webhook.conversation_id)
    if conversation is None:
        return False
    at = _aware(webhook.timestamp)
    if at is None or not conversation.created_at <= at <= received_at:
        at = received_at
    return update_conversation_status(
        session,
        conversation_id=webhook.conversation_id,
        status="ended",
        shutdown_reason=reason[:MAX_REASON_CHARS] if reason else None,
        at=at,
        reported_by=reported_by,
    )


def _aware(moment: datetime | None) -> datetime | None:
    """Tavus's ISO timestamps are UTC; one without a zone is read as UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)
