"""`POST /api/webhooks/tavus/{secret}`: where Tavus (or the sandbox) reports on conversations.

Tavus signs nothing, so three checks guard the endpoint, cheapest first: the secret in the URL
(constant-time; a wrong one answers exactly like an unknown path), the body (at most 1 MB, a
valid webhook by the protocol models), and the conversation (one this app created). Every
refusal is a 4xx logged with its reason, and no input can take the server down. Store work runs
on a worker thread (`run_in_transaction`), never on the event loop.

Even a webhook that passes every check may be forged (the secret can leak), so a
`system.shutdown` ends nothing on its own word: the endpoint asks the API (`verify_end`) and
records the end only when the API confirms it, then lets the app close a session still open for
it (`on_verified_end`). When the API cannot be asked, the delivery is kept and the start-up
reconcile settles the conversation later.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime

from pydantic import ValidationError
from sqlalchemy import Engine
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from cvi_app.access.bodies import BodyTooLarge, InvalidContentLength, read_capped_body
from cvi_app.config import Settings
from cvi_app.protocol import ProtocolError, ShutdownWebhook, Webhook, parse_webhook
from cvi_app.store import run_in_transaction
from cvi_app.store.conversations import EndReporter
from cvi_app.store.types import utc_now
from cvi_app.webhooks.ingest import IngestOutcome, ingest_webhook, record_verified_end
from cvi_app.webhooks.verify import EndVerifier

__all__ = [
    "MAX_BODY_BYTES",
    "UNKNOWN_GRACE_S",
    "VERIFY_TIMEOUT_S",
    "WEBHOOK_PATH",
    "VerifiedEndHandler",
    "webhook_routes",
]

logger = logging.getLogger(__name__)

WEBHOOK_PATH = "/api/webhooks/tavus/{secret}"
MAX_BODY_BYTES = 1024 * 1024
# A webhook can overtake the app's own record of a conversation it is still creating (the
# replica joins while the create call returns): an unknown conversation is looked up again for
# this long before the webhook is refused.
UNKNOWN_GRACE_S = 3.0
# How long a `system.shutdown` waits for the API's answer (senders give up on slow endpoints).
VERIFY_TIMEOUT_S = 4.0
REDACTED = "[redacted]"

VerifiedEndHandler = Callable[[str, str | None], Awaitable[object]]
"""Called with the conversation id and reason once the API confirmed an end."""


def webhook_routes(
    *,
    settings: Settings,
    engine_factory: Callable[[], Engine],
    verify_end: EndVerifier,
    on_verified_end: VerifiedEndHandler | None = None,
    path: str = WEBHOOK_PATH,
    unknown_grace_s: float = UNKNOWN_GRACE_S,
    verify_timeout_s: float = VERIFY_TIMEOUT_S,
) -> list[Route]:
    """The webhook endpoint as Starlette routes, for the app or a test server.

    Args:
        settings: Where the webhook secret comes from.
        engine_factory: Returns the store's engine (called per request, so the app's engine is
            made on first use, not at import).
        verify_end: Asks the API about a conversation (`conversation_at_api` with the client
            of the app's mode); a `system.shutdown` is applied only when it says ended.
        on_verified_end: Called with the id and reason once an end is confirmed and recorded
            (the app closes the conversation's live session, if it has one).
        path: The route path; it must contain `{secret}`.
        unknown_grace_s: How long a webhook for an unknown conversation waits for the
            conversation to be recorded before it is refused.
        verify_timeout_s: How long a `system.shutdown` waits for the API's answer.

    Returns:
        One `POST` route.
    """
    endpoint = _WebhookEndpoint(
        secret=settings.webhook_secret.get_secret_value(),
        engine_factory=engine_factory,
        unknown_grace_s=unknown_grace_s,
        verify_end=verify_end,
        on_verified_end=on_verified_end,
        verify_timeout_s=verify_timeout_s,
    )
    return [Route(path, endpoint.handle, methods=["POST"], name="tavus_webhook")]


class _WebhookEndpoint:
    def __init__(
        self,
        *,
        secret: str,
        engine_factory: Callable[[], Engine],
        unknown_grace_s: float,
        verify_end: EndVerifier,
        on_verified_end: VerifiedEndHandler | None,
        verify_timeout_s: float,
    ) -> None:
        self._secret = secret
        self._secret_bytes = secret.encode("utf-8")
        self._engine_factory = engine_factory
        self._unknown_grace_s = unknown_grace_s
        self._verify_end = verify_end
        self._on_verified_end = on_verified_end
        self._verify_timeout_s = verify_timeout_s

    async def handle(self, request: Request) -> Response:
        client = request.client.host if request.client else "?"
        given = str(request.path_params.get("secret", "")).encode("utf-8")
        if not hmac.compare_digest(given, self._secret_bytes):
            logger.warning("webhook from %s refused: wrong secret", client)
            return PlainTextResponse("Not Found", status_code=404)
        try:
            body = await read_capped_body(request, MAX_BODY_BYTES)
        except BodyTooLarge:
            logger.warning("webhook from %s refused: body over %d bytes", client, MAX_BODY_BYTES)
            return _error(413, f"body larger than {MAX_BODY_BYTES} bytes")
        except InvalidContentLength as exc:
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
        if outcome == "stored" and isinstance(webhook, ShutdownWebhook):
            await self._settle_shutdown(webhook, received_at)
        return JSONResponse({"status": outcome})

    async def _settle_shutdown(self, webhook: ShutdownWebhook, received_at: datetime) -> None:
        """Record the end a shutdown webhook reports if, and only if, the API confirms it."""
        cid = webhook.conversation_id
        try:
            answer = await asyncio.wait_for(self._verify_end(cid), self._verify_timeout_s)
        except Exception as exc:
            # Not ended on the webhook's word: the start-up reconcile asks the API again.
            logger.warning(
                "system.shutdown for %s not applied: the API could not be asked (%s: %s)",
                cid,
                type(exc).__name__,
                exc,
            )
            return
        if answer.state == "live":
            logger.warning(
                "system.shutdown for %s not applied: the API says the conversation is still "
                "active (reason claimed: %r)",
                cid,
                (webhook.reason or "")[:200],
            )
            return
        reason = answer.reason or webhook.reason
        reported_by: EndReporter = "app" if answer.reason else "webhook"
        try:
            await run_in_transaction(
                self._engine_factory(),
                lambda s: record_verified_end(
                    s,
                    webhook=webhook,
                    reason=reason,
                    reported_by=reported_by,
                    received_at=received_at,
                ),
            )
        except Exception:
            logger.exception("conversation %s: recording the confirmed end failed", cid)
            return
        logger.info("conversation %s: end confirmed by the API (%s)", cid, answer.state)
        if self._on_verified_end is not None:
            try:
                await self._on_verified_end(cid, reason)
            except Exception:
                logger.exception("conversation %s: closing its session after the end failed", cid)

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


def _error(status: int, reason: str) -> JSONResponse:
    return JSONResponse({"error": reason}, status_code=status)
