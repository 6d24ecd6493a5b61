"""Fan-out of live updates from a ConversationSession to the tabs that show it.

In-process by default: one bounded queue per subscriber. A subscriber that falls too far behind
is marked as lagging instead of slowing the session down; it then reloads from the store.

`LiveBus` and `LiveSubscription` are what callers need of any bus: this in-process `EventBus`
(the embedded shape) and `cvi_app.live.redis_bus.RedisBus` (the cluster shape) both fit them.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, Protocol, TypeVar

logger = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_QUEUE_SIZE = 2048


@dataclass(frozen=True)
class BusOutage:
    """The bus cannot reach what carries its updates (Redis), as of `since`.

    Attributes:
        since: When the first failure was seen.
        reason: The last error, in a few words (for logs and an operator's notice).
        pending: Updates published here and not written yet (kept, up to a bound, and retried).
        dropped: Updates given up during this outage to keep that bound (the oldest first).
    """

    since: datetime
    reason: str
    pending: int
    dropped: int


class LiveSubscription(Protocol[T]):
    """One subscriber's view of a topic's updates, whichever bus carries them."""

    @property
    def topic(self) -> str:
        """The topic (a conversation id)."""
        ...

    @property
    def lagged(self) -> bool:
        """True once updates were lost to this subscriber: it should rebuild from the store."""
        ...

    @property
    def closed(self) -> bool:
        """True once `close()` was called."""
        ...

    async def get(self) -> T:
        """Wait for the next update."""
        ...

    def drain(self) -> list[T]:
        """Take every update already waiting, without waiting."""
        ...

    def batches(self) -> AsyncIterator[list[T]]:
        """Yield updates in batches: everything that arrived while the last one was handled."""
        ...

    def close(self) -> None:
        """Stop receiving updates (safe to call twice)."""
        ...


class LiveBus(Protocol[T]):
    """Topic-based publish/subscribe of live updates (in one process, or across processes)."""

    def subscribe(self, topic: str) -> LiveSubscription[T]:
        """Start receiving every update published on `topic` from now on."""
        ...

    def publish(self, topic: str, update: T) -> int:
        """Hand `update` to the topic's subscribers without waiting; return how many are here."""
        ...

    def subscriber_count(self, topic: str) -> int:
        """How many subscribers `topic` has in this process now."""
        ...

    @property
    def outage(self) -> BusOutage | None:
        """Why updates cannot get through right now, or None when they can."""
        ...

    async def aclose(self) -> None:
        """Stop the bus's own work (background tasks, connections)."""
        ...


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

    @property
    def outage(self) -> BusOutage | None:
        """Always None: an in-process bus has nothing to lose touch with."""
        return None

    async def aclose(self) -> None:
        """Nothing to stop: an in-process bus has no tasks or connections of its own."""

    def _remove(self, subscription: Subscription[T]) -> None:
        subscribers = self._subscribers.get(subscription.topic)
        if subscribers is not None:
            subscribers.discard(subscription)
            if not subscribers:
                del self._subscribers[subscription.topic]
