"""`OrphanSweeper`: ends conversations the API created for a start the app gave up on.

A create that times out (or breaks off, or fails on the server's side) may still have created
the conversation, and Tavus bills it until it ends. Each start marks its `callback_url` with a
one-off token (`?start=...`, ignored by the webhook route); when a start fails that way, the
sweeper watches the active conversations for a while and ends the one carrying that token.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable
from urllib.parse import urlencode

from cvi_app.tavus import TavusClient, TavusError
from cvi_app.tavus.errors import TavusAPIError

__all__ = ["START_MARKER", "OrphanSweeper", "may_have_created"]

logger = logging.getLogger(__name__)

START_MARKER = "start"
"""Query parameter of the callback URL that names one start attempt."""


def may_have_created(exc: BaseException) -> bool:
    """Whether a failed create may still have created the conversation at the API.

    A 4xx answer means the API refused it; anything else (no answer in time, a broken
    connection, a 5xx) leaves it unknown.
    """
    if isinstance(exc, TavusAPIError):
        return exc.status_code >= 500
    return isinstance(exc, TavusError)


class OrphanSweeper:
    """Finds and ends conversations left behind by failed starts.

    Args:
        client_factory: Makes a Tavus client (one per sweep; closed after it).
        window: Seconds to keep looking for a late conversation.
        first_interval: Seconds between the first checks; doubles up to 5 s.
    """

    def __init__(
        self,
        client_factory: Callable[[], TavusClient],
        *,
        window: float = 60.0,
        first_interval: float = 0.25,
    ) -> None:
        self._client_factory = client_factory
        self.window = window
        self._first_interval = first_interval
        self._tasks: set[asyncio.Task[None]] = set()

    @staticmethod
    def mark(callback_url: str) -> tuple[str, str]:
        """A callback URL carrying a fresh start token, and the token."""
        token = secrets.token_urlsafe(12)
        sep = "&" if "?" in callback_url else "?"
        return f"{callback_url}{sep}{urlencode({START_MARKER: token})}", token

    def sweep(self, token: str) -> asyncio.Task[None]:
        """Start looking for the conversation of the start marked `token`, and end it."""
        task = asyncio.get_running_loop().create_task(self._sweep(token), name=f"sweep-{token}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _sweep(self, token: str) -> None:
        marker = urlencode({START_MARKER: token})
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.window
        interval = self._first_interval
        async with self._client_factory() as client:
            while loop.time() < deadline:
                try:
                    active = await client.list_conversations(limit=100, status="active")
                except TavusError as exc:
                    logger.info("looking for an abandoned conversation failed: %s", exc)
                else:
                    for conversation in active.data:
                        if marker in (conversation.callback_url or ""):
                            await self._end(client, conversation.conversation_id)
                            return
                await asyncio.sleep(interval)
                interval = min(interval * 2, 5.0)
        logger.info("no abandoned conversation appeared for start %s", token)

    @staticmethod
    async def _end(client: TavusClient, conversation_id: str) -> None:
        logger.warning(
            "conversation %s was created for a start that failed: ending it", conversation_id
        )
        try:
            await client.end_conversation(conversation_id)
        except TavusError as exc:
            logger.warning("ending abandoned conversation %s failed: %s", conversation_id, exc)

    async def aclose(self) -> None:
        """Stop every sweep still looking (idempotent)."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
