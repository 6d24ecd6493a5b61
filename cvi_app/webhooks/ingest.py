"""What a checked webhook does to the store: one transaction per delivery.

The delivery is recorded first (`record_webhook_delivery`); only a new delivery acts on the
conversation, so a redelivered webhook changes nothing. Recording and acting share the
caller's transaction: a delivery is never stored without its effect.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Literal

from sqlmodel import Session

from cvi_app.protocol import ShutdownWebhook, TranscriptionReadyWebhook, Webhook
from cvi_app.store import (
    get_conversation,
    record_webhook_delivery,
    save_official_transcript,
    transcript_lines_from_webhook,
    update_conversation_status,
    webhook_delivery_from_protocol,
)

__all__ = ["IngestOutcome", "ingest_webhook"]

logger = logging.getLogger(__name__)

IngestOutcome = Literal["stored", "duplicate", "unknown_conversation"]


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
    if isinstance(webhook, ShutdownWebhook):
        update_conversation_status(
            session,
            conversation_id=cid,
            status="ended",
            shutdown_reason=webhook.reason,
            at=_aware(webhook.timestamp) or received_at,
        )
    elif isinstance(webhook, TranscriptionReadyWebhook):
        added = save_official_transcript(
            session, conversation_id=cid, lines=transcript_lines_from_webhook(webhook)
        )
        logger.info("conversation %s: official transcript stored (%d lines)", cid, added)
    return "stored"


def _aware(moment: datetime | None) -> datetime | None:
    """Tavus's ISO timestamps are UTC; one without a zone is read as UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)
