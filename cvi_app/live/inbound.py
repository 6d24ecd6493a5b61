"""The inbound pipeline: what turns a room's app-messages into a conversation's events.

Every app-message goes through it in arrival order and without awaiting:

    trust check -> parse -> right conversation -> order by seq / drop repeats
    -> drop pal/replica twins -> accept

Nothing inbound is trusted: only the replica participant speaks for Tavus, and bad input is
logged with a reason and dropped, never raised.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from cvi_app.live.ordering import SeqOrderer
from cvi_app.protocol import Event, ProtocolError, TwinFilter, parse_event

__all__ = ["InboundPipeline"]

logger = logging.getLogger(__name__)


class InboundPipeline:
    """Checks, orders and de-duplicates one conversation's inbound events.

    Args:
        conversation_id: the conversation whose events are admitted.
        is_replica: whether a sender id is the replica participant.
        accept: called with each admitted event, in order.
        gap_timeout: seconds an event that arrived early waits for the ones before it.
    """

    def __init__(
        self,
        conversation_id: str,
        *,
        is_replica: Callable[[str], bool],
        accept: Callable[[Event], None],
        gap_timeout: float = 0.05,
    ) -> None:
        self.conversation_id = conversation_id
        self.rejected = 0
        self._is_replica = is_replica
        self._accept = accept
        self._orderer = SeqOrderer(gap_timeout=gap_timeout)
        self._twins = TwinFilter()
        self._gap_timer: asyncio.TimerHandle | None = None

    def handle(self, message: Any, sender_id: str) -> None:
        """Run one app-message through the pipeline (never raises on bad input)."""
        if not self._is_replica(sender_id):
            # Browsers and other participants talk in the room too; only the replica speaks
            # for Tavus. Their messages are not events.
            logger.debug(
                "conversation %s: ignored message from %s", self.conversation_id, sender_id
            )
            return
        try:
            event = parse_event(message)
        except ProtocolError as exc:
            self._reject("rejected event from replica: %s", exc)
            return
        if event.conversation_id not in (None, "", self.conversation_id):
            self._reject("rejected event for another conversation %r", event.conversation_id)
            return
        for ready in self._orderer.push(event):
            self._admit(ready)
        if self._orderer.holding and self._gap_timer is None:
            loop = asyncio.get_running_loop()
            self._gap_timer = loop.call_later(self._orderer.gap_timeout, self.release_held)

    def release_held(self) -> None:
        """Accept every event still waiting for the ones before it (a gap, or the end)."""
        if self._gap_timer is not None:
            self._gap_timer.cancel()
        self._gap_timer = None
        for event in self._orderer.release_all():
            self._admit(event)

    def _admit(self, event: Event) -> None:
        if self._twins.admit(event):
            self._accept(event)

    def _reject(self, reason: str, detail: object) -> None:
        self.rejected += 1
        logger.warning("conversation %s: " + reason, self.conversation_id, detail)
