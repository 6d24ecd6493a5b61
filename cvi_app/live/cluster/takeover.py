"""Taking over the sessions of a process that died.

`TakeoverWatch` looks, about twice a second, at the conversations the store records as active
in this mode. One whose lease nobody has held for `grace_s` seconds (longer than a holder takes
to renew, so a holder that only lost touch with Redis gets its lease back first) is taken by
whichever process gets its lease first, which then rejoins the room (see
`SessionManager.take_over`).

`unstored_updates` is what the new holder reads first: updates the old holder published to the
stream but did not get into the store before it died, so they are stored now (once), and the
new session numbers its updates after every update the tabs have seen.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from redis.exceptions import RedisError

from cvi_app.live.cluster.leases import LeaseTable
from cvi_app.live.redis_bus import RedisBus
from cvi_app.live.updates import EventReceived, InteractionSent, LiveUpdate

__all__ = ["TakeoverWatch", "unstored_updates"]

logger = logging.getLogger(__name__)

_FIRST_PAGE = 32
"""Updates read back first: the store is behind the stream by its last write batch or so."""


class TakeoverWatch:
    """Finds active conversations no process holds, and takes them over.

    Args:
        leases: The cluster's leases.
        active: The ids of the conversations recorded active in this mode.
        is_local: Whether this process runs a conversation's session already.
        take_over: Called with a conversation this process has just taken the lease of.
        interval_s: Seconds between looks.
        grace_s: Seconds a lease must stay free before it is taken.
        concurrency: How many takeovers run at once: a process that died held many sessions,
            and each takeover waits on the store, the API and a room join.
    """

    def __init__(
        self,
        leases: LeaseTable,
        *,
        active: Callable[[], Awaitable[list[str]]],
        is_local: Callable[[str], bool],
        take_over: Callable[[str], Awaitable[None]],
        interval_s: float = 0.5,
        grace_s: float = 1.5,
        concurrency: int = 16,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._leases = leases
        self._active = active
        self._is_local = is_local
        self._take_over = take_over
        self.interval_s = interval_s
        self.grace_s = grace_s
        self._clock = clock
        self._free_since: dict[str, float] = {}
        self._slots = asyncio.Semaphore(concurrency)
        self.taking: set[str] = set()
        """Conversations whose lease this process took and whose session is not running yet:
        their leases are renewed with those of the running sessions."""

    async def run(self) -> None:
        """Look and take over until cancelled (failures are logged and looked at again)."""
        while True:
            try:
                await self.look()
            except asyncio.CancelledError:
                raise
            except RedisError as exc:
                logger.warning("takeover: Redis failed (%s); looking again shortly", exc)
            except Exception:
                logger.exception("takeover: a look failed")
            await asyncio.sleep(self.interval_s)

    async def look(self) -> list[str]:
        """One look: take over what has been free long enough; return what was taken."""
        ids = [cid for cid in await self._active() if not self._is_local(cid)]
        holders = await self._leases.holders(ids)
        now = self._clock()
        free = {cid for cid, holder in holders.items() if holder is None}
        self._free_since = {cid: self._free_since.get(cid, now) for cid in free}
        due = [cid for cid in sorted(free) if now - self._free_since[cid] >= self.grace_s]
        results = await asyncio.gather(*(self._take(cid) for cid in due))
        return [cid for cid, taken in zip(due, results, strict=True) if taken]

    async def _take(self, cid: str) -> bool:
        # The lease at once, so no other process starts on it too; the rejoin when a slot frees.
        if not await self._leases.acquire(cid):
            return False  # another process was quicker
        self._free_since.pop(cid, None)
        self.taking.add(cid)
        try:
            async with self._slots:
                logger.info("takeover %s: nobody held it; taking it over", cid)
                await self._take_over(cid)
        except Exception:
            logger.exception("takeover %s: failed", cid)
            await self._leases.release(cid)
            return False
        finally:
            self.taking.discard(cid)
        return True


async def unstored_updates(
    bus: RedisBus[LiveUpdate], conversation_id: str, *, stored_upto: int
) -> tuple[list[EventReceived | InteractionSent], int]:
    """What the stream holds past the store, and the highest update id it holds.

    Args:
        bus: The cluster's bus.
        conversation_id: The conversation taken over.
        stored_upto: The highest update id in the store.

    Returns:
        The events and sends numbered past `stored_upto` (to store now), oldest first, and the
        highest update id in the stream (0 when it is empty).
    """
    limit = _FIRST_PAGE
    while True:
        updates, _end = await bus.recent(conversation_id, limit)
        numbered = [u for u in updates if u.update_id]
        if not numbered or numbered[0].update_id <= stored_upto or len(updates) < limit:
            break
        limit *= 4  # the store is further behind than one page: read further back
    highest = max((u.update_id for u in numbered), default=0)
    missing = [
        u
        for u in numbered
        if u.update_id > stored_upto and isinstance(u, EventReceived | InteractionSent)
    ]
    return missing, highest
