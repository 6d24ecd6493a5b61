"""Session leases on a real Redis: one holder at a time, renewal, loss and hand-back."""

from __future__ import annotations

import asyncio
import uuid

from redis.asyncio import Redis

from cvi_app.live.cluster.leases import LeaseTable


def _cid() -> str:
    return f"c{uuid.uuid4().hex[:10]}"


async def test_only_one_node_holds_a_lease_until_it_releases_it(redis: Redis) -> None:
    a, b = LeaseTable(redis, "node-a"), LeaseTable(redis, "node-b")
    cid = _cid()
    assert await a.acquire(cid)
    assert not await b.acquire(cid)
    assert await b.holder(cid) == "node-a"
    await b.release(cid)  # not b's to release
    assert await a.holder(cid) == "node-a"
    await a.release(cid)
    assert await b.acquire(cid)


async def test_a_lease_nobody_renews_runs_out_and_another_node_takes_it(redis: Redis) -> None:
    a, b = LeaseTable(redis, "node-a", ttl_s=0.2), LeaseTable(redis, "node-b", ttl_s=0.2)
    cid = _cid()
    assert await a.acquire(cid)
    ttl = await redis.pttl(a.key(cid))
    assert 0 < ttl <= 200
    await asyncio.sleep(0.3)
    assert await a.holder(cid) is None
    assert await b.acquire(cid)
    assert await a.renew([cid]) == {cid}, "a learns it lost the lease"


async def test_renewal_keeps_a_lease_and_takes_back_one_redis_forgot(redis: Redis) -> None:
    a = LeaseTable(redis, "node-a", ttl_s=2)
    kept, forgotten = _cid(), _cid()
    assert await a.acquire(kept) and await a.acquire(forgotten)
    await redis.delete(a.key(forgotten))  # as after a restart of Redis without its data
    assert await a.renew([kept, forgotten]) == set()
    assert await a.holders([kept, forgotten]) == {kept: "node-a", forgotten: "node-a"}
    assert await redis.pttl(a.key(kept)) > 1000
