"""Delivering the sandbox's webhooks to a conversation's `callback_url`.

Each webhook is POSTed as JSON in the background (the room never waits for it), retried a couple
of times on network errors, 429 and 5xx, and logged when it finally fails. Webhooks of one
conversation are delivered in the order they were sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from urllib.parse import urlsplit

import httpx

from cvi_app.protocol import Webhook

__all__ = ["WebhookSender"]

logger = logging.getLogger(__name__)

_RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


class WebhookSender:
    """POSTs webhooks without blocking the caller.

    Args:
        client: The HTTP client to use (one is created, and closed by `aclose`, when None).
        retries: Further attempts after the first fails with a network error, 429 or 5xx.
        timeout: Seconds allowed for each attempt.
        backoff: Seconds before the first retry; doubled for each further one.
    """

    def __init__(
        self,
        *,
        client: httpx.AsyncClient | None = None,
        retries: int = 2,
        timeout: float = 5.0,
        backoff: float = 0.25,
    ) -> None:
        self._client = client
        self._owns_client = client is None
        self.retries = retries
        self.timeout = timeout
        self.backoff = backoff
        self._last: dict[str, asyncio.Task[bool]] = {}
        self._tasks: set[asyncio.Task[bool]] = set()
        self._closed = False

    def send(self, url: str, webhook: Webhook) -> asyncio.Task[bool] | None:
        """Queue `webhook` for delivery to `url` and return at once.

        Args:
            url: The conversation's callback URL.
            webhook: The typed webhook; its `to_message()` is the body.

        Returns:
            The delivery task (its result says whether the webhook was accepted), or None when
            the sender is closed.
        """
        if self._closed:
            logger.warning("webhook %s not sent: the sender is closed", webhook.event_type)
            return None
        previous = self._last.get(webhook.conversation_id)
        task = asyncio.get_running_loop().create_task(
            self._deliver(url, webhook, after=previous), name=f"webhook-{webhook.event_type}"
        )
        self._last[webhook.conversation_id] = task
        self._tasks.add(task)
        task.add_done_callback(lambda done: self._forget(webhook.conversation_id, done))
        return task

    async def drain(self, within: float = 10.0) -> None:
        """Wait (up to `within` seconds) for every queued webhook to be delivered or given up."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=within)

    async def aclose(self, grace: float = 2.0) -> None:
        """Give queued webhooks `grace` seconds, cancel the rest, close the client (idempotent)."""
        self._closed = True
        await self.drain(grace)
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._owns_client and self._client is not None:
            await self._client.aclose()
            self._client = None

    def _forget(self, conversation_id: str, task: asyncio.Task[bool]) -> None:
        self._tasks.discard(task)
        if self._last.get(conversation_id) is task:
            del self._last[conversation_id]

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self.timeout)
        return self._client

    async def _deliver(
        self, url: str, webhook: Webhook, *, after: asyncio.Task[bool] | None
    ) -> bool:
        if after is not None:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.shield(after)
        body = webhook.to_message()
        delay = self.backoff
        for attempt in range(self.retries + 1):
            problem: str
            try:
                response = await self._http().post(url, json=body, timeout=self.timeout)
            except httpx.HTTPError as exc:
                problem = f"{type(exc).__name__}: {exc}"
            else:
                if response.is_success:
                    return True
                problem = f"HTTP {response.status_code}"
                if response.status_code not in _RETRY_STATUSES:
                    break
            if attempt < self.retries:
                logger.info(
                    "webhook %s to %s failed (%s); retrying",
                    webhook.event_type,
                    _where(url),
                    problem,
                )
                await asyncio.sleep(delay)
                delay *= 2
        logger.warning(
            "webhook %s for %s to %s failed: %s",
            webhook.event_type,
            webhook.conversation_id,
            _where(url),
            problem,
        )
        return False


def _where(url: str) -> str:
    """The callback URL without its path: the path holds the receiver's secret."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/…"
