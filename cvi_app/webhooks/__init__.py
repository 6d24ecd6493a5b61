"""Receiving Tavus webhooks: the endpoint, and what each webhook does to the store."""

from cvi_app.webhooks.endpoint import (
    MAX_BODY_BYTES,
    WEBHOOK_PATH,
    VerifiedEndHandler,
    webhook_routes,
)
from cvi_app.webhooks.ingest import IngestOutcome, ingest_webhook
from cvi_app.webhooks.verify import ApiAnswer, ApiState, EndVerifier, conversation_at_api

__all__ = [
    "MAX_BODY_BYTES",
    "WEBHOOK_PATH",
    "ApiAnswer",
    "ApiState",
    "EndVerifier",
    "IngestOutcome",
    "VerifiedEndHandler",
    "conversation_at_api",
    "ingest_webhook",
    "webhook_routes",
]
