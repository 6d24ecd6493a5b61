"""Webhook-delivery queries: store each delivery once, list a conversation's deliveries.

Every function takes the caller's session and leaves the commit to the caller.
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from cvi_app.store._sql import check_limit, insert_ignoring_conflicts
from cvi_app.store.keys import payload_hash
from cvi_app.store.models import WebhookDelivery, WebhookDeliveryCreate

__all__ = ["list_webhook_deliveries", "record_webhook_delivery"]


def record_webhook_delivery(session: Session, *, delivery: WebhookDeliveryCreate) -> bool:
    """Store a webhook delivery unless the same payload was already stored.

    Tavus may deliver a webhook more than once; the payload's canonical JSON hash decides.

    Args:
        session: The caller's session.
        delivery: The delivery.

    Returns:
        True when the delivery was new (act on it); False for a redelivery (ignore it).
    """
    stmt = insert_ignoring_conflicts(session, WebhookDelivery, unique=["dedupe_hash"]).returning(
        col(WebhookDelivery.id)
    )
    row = {**delivery.model_dump(), "dedupe_hash": payload_hash(delivery.payload)}
    return session.execute(stmt, [row]).first() is not None


def list_webhook_deliveries(
    session: Session, *, conversation_id: str, after_id: int | None = None, limit: int = 100
) -> list[WebhookDelivery]:
    """A conversation's webhook deliveries in the order they arrived, paged by row id."""
    check_limit(limit)
    query = select(WebhookDelivery).where(WebhookDelivery.conversation_id == conversation_id)
    if after_id is not None:
        query = query.where(col(WebhookDelivery.id) > after_id)
    return list(session.exec(query.order_by(col(WebhookDelivery.id)).limit(limit)).all())
