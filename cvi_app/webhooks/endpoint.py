"""`POST /api/webhooks/tavus/{secret}`: where Tavus (or the sandbox) reports on conversations.

Tavus signs nothing, so three checks guard the endpoint, cheapest first: the secret in the URL
(constant-time; a wrong one answers exactly like an unknown path), the body (at most 1 MB, a
valid webhook by the protocol models), and the conversation (one this app created). Every
refusal is a 4xx logged with its reason, and no input can take the server down. Store work runs
on a worker thread (`run_in_transaction`), never on the event loop.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import time
from collections.abc import Callable
from datetime import datetime

from pydantic import ValidationError
from sqlalchemy import Engine
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from cvi_app.config import Settings
from cvi_app.protocol import ProtocolError, Webhook, parse_webhook
from cvi_app.store import run_in_transaction
from cvi_app.store.types import utc_now
from cvi_app.webhooks.ingest import IngestOutcome, ingest_webhook

__all__ = ["MAX_BODY_BYTES", "UNKNOWN_GRACE_S", "WEBHOOK_PATH", "webhook_routes"]

logger = logging.getLogger(__name__)

WEBHOOK_PATH = "/api/webhooks/tavus/{secret}"
MAX_BODY_BYTES = 1024 * 1024
# A webhook can overtake the app's own record of a conversation it is still creating (the
# replica joins while the create call returns): an unknown conversation is looked up again for
# this long before the webhook is refused.
UNKNOWN_GRACE_S = 3.0
REDACTED = "[redacted]"


class _BodyTooLarge(Exception):
    """The request body is over the limit."""


def webhook_routes(
    *,
    settings: Settings,
    engine_factory: Callable[[], Engine],
    path: str = WEBHOOK_PATH,
    unknown_grace_s: float = UNKNOWN_GRACE_S,
) -> list[Route]:
    """The webhook endpoint as Starlette routes, for the app or a test server.

    Args:
        settings: Where the webhook secret comes from.
        engine_factory: Returns the store's engine (called per request, so the app's engine is
            made on first use, not at import).
        path: The route path; it must contain `{secret}`.
        unknown_grace_s: How long a webhook for an unknown conversation waits for the
            conversation to be recorded before it is refused.

    Returns:
        One `POST` route.
    """
    endpoint = _WebhookEndpoint(
        secret=settings.webhook_secret.get_secret_value(),
        engine_factory=engine_factory,
        unknown_grace_s=unknown_grace_s,
    )
    return [Route(path, endpoint.handle, methods=["POST"], name="tavus_webhook")]


class _WebhookEndpoint:
    def __init__(
        self, *, secret: str, engine_factory: Callable[[], Engine], unknown_grace_s: float
    ) -> None:
        self._secret = secret
        self._secret_bytes = secret.encode("utf-8")
        self._engine_factory = engine_factory
        self._unknown_grace_s = unknown_grace_s

    async def handle(self, request: Request) -> Response:
        client = request.client.host if request.client else "?"
        given = str(request.path_params.get("secret", "")).encode("utf-8")
        if not hmac.compare_digest(given, self._secret_bytes):
            logger.warning("webhook from %s refused: wrong secret", client)
            return PlainTextResponse("Not Found", status_code=404)
        try:
            body = await _read_body(request)
        except _BodyTooLarge:
            logger.warning("webhook from %s refused: body over %d bytes", client, MAX_BODY_BYTES)
            return _error(413, f"body larger than {MAX_BODY_BYTES} bytes")
        except ValueError as exc:
            logger.warning("webhook from %s refused: %s", client, exc)
            return _error(400, str(exc))
        except ClientDisconnect:
            logger.info("webhook from %s: client went away mid-body", client)
            return _error(400, "incomplete body")
        try:
            webhook = parse_webhook(body)
        except ProtocolError as exc:
            logger.warning("webhook from %s refused: invalid webhook: %s", client, exc)
            return _error(400, f"invalid webhook: {exc}")
        payload = body.decode("utf-8").replace(self._secret, REDACTED)
        received_at = utc_now()
        try:
            outcome = await self._ingest(webhook, payload, received_at)
        except ValidationError as exc:
            error = ProtocolError.from_validation_error(exc)
            logger.warning("webhook from %s refused: unstorable webhook: %s", client, error)
            return _error(400, f"invalid webhook: {error}")
        except Exception:
            logger.exception(
                "webhook %s for %s not stored", webhook.event_type, webhook.conversation_id
            )
            return _error(503, "could not store the webhook; retry later")
        if outcome == "unknown_conversation":
            logger.warning(
                "webhook %s from %s refused: unknown conversation %r",
                webhook.event_type,
                client,
                webhook.conversation_id[:128],
            )
            return _error(404, "unknown conversation")
        logger.info("webhook %s for %s: %s", webhook.event_type, webhook.conversation_id, outcome)
        return JSONResponse({"status": outcome})

    async def _ingest(self, webhook: Webhook, payload: str, received_at: datetime) -> IngestOutcome:
        """Store the webhook; an unknown conversation is looked up again for a short while."""
        deadline = time.monotonic() + self._unknown_grace_s
        pause = 0.05
        while True:
            outcome = await run_in_transaction(
                self._engine_factory(),
                lambda s: ingest_webhook(
                    s, webhook=webhook, payload=payload, received_at=received_at
                ),
            )
            if outcome != "unknown_conversation" or time.monotonic() + pause > deadline:
                return outcome
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.5)


async def _read_body(request: Request) -> bytes:
    """The body, refused early when its declared or actual size is over the limit."""
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            size = int(declared)
        except ValueError:
            raise ValueError("invalid Content-Length") from None
        if size > MAX_BODY_BYTES:
            raise _BodyTooLarge
    chunks: list[bytes] = []
    total = 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > MAX_BODY_BYTES:
            raise _BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def _error(status: int, reason: str) -> JSONResponse:
    return JSONResponse({"error": reason}, status_code=status)
