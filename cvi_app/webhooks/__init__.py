"""Receiving Tavus webhooks: the endpoint, and what each webhook does to the store."""

from cvi_app.webhooks.endpoint import MAX_BODY_BYTES, WEBHOOK_PATH, webhook_routes
from cvi_app.webhooks.ingest import IngestOutcome, ingest_webhook

__all__ = ["MAX_BODY_BYTES", "WEBHOOK_PATH", "IngestOutcome", "ingest_webhook", "webhook_routes"]
