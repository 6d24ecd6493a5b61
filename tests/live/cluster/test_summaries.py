"""Live summaries on a real Redis: written by the holder, read in one trip, gone when it dies."""

from __future__ import annotations

import asyncio
import uuid

from redis.asyncio import Redis

from cvi_app.live.cluster.summaries import SummaryBoard
from cvi_app.live.summary import LiveSummary


def _cid() -> str:
    return f"c{uuid.uuid4().hex[:10]}"


async def test_summaries_written_by_one_process_are_read_by_another(redis: Redis) -> None:
    a, b = _cid(), _cid()
    writer, reader = SummaryBoard(redis), SummaryBoard(redis)
    await writer.publish(
        [
            LiveSummary(conversation_id=a, last_line="Hello there.", people=["Ada"]),
            LiveSummary(conversation_id=b, tool_errors=1),
        ]
    )
    found = await reader.read([a, b, _cid()])
    assert set(found) == {a, b}
    assert found[a].last_line == "Hello there." and found[a].people == ["Ada"]
    assert found[b].tool_errors == 1


async def test_a_summary_nobody_rewrites_is_gone_after_its_time(redis: Redis) -> None:
    cid = _cid()
    board = SummaryBoard(redis, ttl_s=0.2)
    await board.publish([LiveSummary(conversation_id=cid)])
    assert cid in await board.read([cid])
    await asyncio.sleep(0.4)
    assert await board.read([cid]) == {}


async def test_unreadable_or_misfiled_entries_are_skipped(redis: Redis) -> None:
    good, junk, misfiled = _cid(), _cid(), _cid()
    board = SummaryBoard(redis)
    await board.publish([LiveSummary(conversation_id=good)])
    await redis.set(f"cvi:summary:{{{junk}}}", b"not json")
    await redis.set(
        f"cvi:summary:{{{misfiled}}}", LiveSummary(conversation_id=good).model_dump_json()
    )
    assert set(await board.read([good, junk, misfiled])) == {good}
