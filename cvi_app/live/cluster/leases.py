"""Who runs each live conversation's session: one process at a time, under a lease in Redis.

A lease is the key `cvi:lease:{<conversation id>}` holding the holder's node id, with a time to
live. The holder renews it well before it runs out; a process that dies stops renewing, the key
expires, and another process may take the lease (and the session) over. Every change is one
atomic step in Redis, so two processes never both believe they hold a lease.
"""

from __future__ import annotations

from collections.abc import Iterable

from redis.asyncio import Redis

__all__ = ["DEFAULT_LEASE_TTL_S", "LeaseTable"]

DEFAULT_LEASE_TTL_S = 4.0
"""Seconds a lease lasts unless renewed (the holder renews it about every second)."""

# Renew a lease this node holds; take it again if Redis lost it (a restart without data).
# Returns 1 when held now, 0 when another node holds it.
_RENEW_LUA = """
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
elseif not holder then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
"""

_RELEASE_LUA = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


class LeaseTable:
    """The leases of every conversation, as one node sees and changes them.

    Args:
        redis: The cluster's Redis.
        node_id: This process's id in the cluster (what its leases hold).
        ttl_s: Seconds a lease lasts unless renewed.
        key_prefix: Lease keys are `<prefix>{<conversation id>}`.
    """

    def __init__(
        self,
        redis: Redis,
        node_id: str,
        *,
        ttl_s: float = DEFAULT_LEASE_TTL_S,
        key_prefix: str = "cvi:lease:",
    ) -> None:
        if ttl_s <= 0:
            raise ValueError("ttl_s must be positive")
        self._redis = redis
        self.node_id = node_id
        self.ttl_ms = int(ttl_s * 1000)
        self._prefix = key_prefix
        self._renew = redis.register_script(_RENEW_LUA)
        self._release = redis.register_script(_RELEASE_LUA)

    def key(self, conversation_id: str) -> str:
        """The Redis key of a conversation's lease."""
        return f"{self._prefix}{{{conversation_id}}}"

    async def acquire(self, conversation_id: str) -> bool:
        """Take the lease if nobody holds it; True when this node holds it now."""
        taken = await self._redis.set(
            self.key(conversation_id), self.node_id, nx=True, px=self.ttl_ms
        )
        if taken:
            return True
        return await self.holder(conversation_id) == self.node_id

    async def renew(self, conversation_ids: Iterable[str]) -> set[str]:
        """Renew this node's leases in one round trip; return those another node holds now."""
        ids = list(conversation_ids)
        if not ids:
            return set()
        async with self._redis.pipeline(transaction=False) as pipe:
            for cid in ids:
                await self._renew(
                    keys=[self.key(cid)], args=[self.node_id, self.ttl_ms], client=pipe
                )
            results = await pipe.execute()
        return {cid for cid, held in zip(ids, results, strict=True) if not held}

    async def release(self, conversation_id: str) -> None:
        """Give the lease up (only if this node holds it), so another node may take it at once."""
        await self._release(keys=[self.key(conversation_id)], args=[self.node_id])

    async def holder(self, conversation_id: str) -> str | None:
        """The node that holds a conversation's lease, or None."""
        value = await self._redis.get(self.key(conversation_id))
        return value.decode() if isinstance(value, bytes) else value

    async def holders(self, conversation_ids: list[str]) -> dict[str, str | None]:
        """The holder of each conversation's lease (None: nobody), in one round trip."""
        if not conversation_ids:
            return {}
        values = await self._redis.mget([self.key(cid) for cid in conversation_ids])
        return {
            cid: (value.decode() if isinstance(value, bytes) else value)
            for cid, value in zip(conversation_ids, values, strict=True)
        }
