"""Fan-out of live updates from a ConversationSession to the tabs that show it.

In-process by default: one bounded queue per subscriber. A subscriber that falls too far behind
is marked as lagging instead of slowing the session down; it then reloads from the store.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Generic, TypeVar

logger = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_QUEUE_SIZE = 2048


class Subscription(Generic[T]):
    """One subscriber's view of a conversation's updates."""

    def __init__(self, bus: EventBus[T], topic: str, maxsize: int) -> None:
        self._bus = bus
        self.topic = topic
        self._queue: asyncio.Queue[T] = asyncio.Queue(maxsize=maxsize)
        self.lagged = False
        self.closed = False

    def _offer(self, update: T) -> None:
        try:
            self._queue.put_nowait(update)
        except asyncio.QueueFull:
            # Never block the session for a slow tab: the tab reloads from the store.
            self.lagged = True

    async def get(self) -> T:
        """Wait for the next update."""
        return await self._queue.get()

    def drain(self) -> list[T]:
        """Take every update already waiting, without waiting (for coalescing bursts)."""
        items: list[T] = []
        while True:
            try:
                items.append(self._queue.get_nowait())
            except asyncio.QueueEmpty:
                return items

    async def batches(self) -> AsyncIterator[list[T]]:
        """Yield updates in batches: everything that arrived while the last batch was handled."""
        while not self.closed:
            first = await self.get()
            yield [first, *self.drain()]

    def close(self) -> None:
        """Stop receiving updates (safe to call twice)."""
        if not self.closed:
            self.closed = True
            self._bus._remove(self)


class EventBus(Generic[T]):
    """Topic-based publish/subscribe within one process."""

    def __init__(self, *, queue_size: int = DEFAULT_QUEUE_SIZE) -> None:
        self._queue_size = queue_size
        self._subscribers: dict[str, set[Subscription[T]]] = defaultdict(set)

    def subscribe(self, topic: str) -> Subscription[T]:
        """Start receiving every update published on `topic` from now on."""
        subscription = Subscription(self, topic, self._queue_size)
        self._subscribers[topic].add(subscription)
        return subscription

    def publish(self, topic: str, update: T) -> int:
        """Hand `update` to every subscriber of `topic`; return how many there were."""
        subscribers = self._subscribers.get(topic, ())
        for subscription in subscribers:
            subscription._offer(update)
        return len(subscribers)

    def subscriber_count(self, topic: str) -> int:
        """How many subscribers `topic` has now."""
        return len(self._subscribers.get(topic, ()))

    def _remove(self, subscription: Subscription[T]) -> None:
        subscribers = self._subscribers.get(subscription.topic)
        if subscribers is not None:
            subscribers.discard(subscription)
            if not subscribers:
                del self._subscribers[subscription.topic]
