"""Each process's live conversations at a glance, in Redis, for the console on any process.

A process writes the summary of every session it holds about once a second (with its lease
renewal), each under its own key that expires after a few seconds: a process that dies takes
its summaries with it. A console reads the summaries of the conversations it shows in one
round trip. What is read is another process's writing: sizes are capped and every entry is
checked before use (bad ones are skipped).
"""

from __future__ import annotations

import logging

from pydantic import ValidationError
from redis.asyncio import Redis

from cvi_app.live.summary import LiveSummary

__all__ = ["SummaryBoard"]

logger = logging.getLogger(__name__)

_MAX_SUMMARY_BYTES = 16 * 1024


class SummaryBoard:
    """Writes and reads live summaries.

    Args:
        redis: The cluster's Redis.
        ttl_s: Seconds a summary lasts unless written again.
        key_prefix: Keys are `<prefix>{<conversation id>}`.
    """

    def __init__(self, redis: Redis, *, ttl_s: float = 5.0, key_prefix: str = "cvi:summary:"):
        self._redis = redis
        self._ttl_ms = int(ttl_s * 1000)
        self._prefix = key_prefix

    def _key(self, conversation_id: str) -> str:
        return f"{self._prefix}{{{conversation_id}}}"

    async def publish(self, summaries: list[LiveSummary]) -> None:
        """Write these summaries (one round trip)."""
        if not summaries:
            return
        async with self._redis.pipeline(transaction=False) as pipe:
            for summary in summaries:
                data = summary.model_dump_json().encode()
                if len(data) <= _MAX_SUMMARY_BYTES:
                    pipe.set(self._key(summary.conversation_id), data, px=self._ttl_ms)
            await pipe.execute()

    async def read(self, conversation_ids: list[str]) -> dict[str, LiveSummary]:
        """The summaries written for these conversations (missing ones left out)."""
        if not conversation_ids:
            return {}
        values = await self._redis.mget([self._key(cid) for cid in conversation_ids])
        found: dict[str, LiveSummary] = {}
        for cid, value in zip(conversation_ids, values, strict=True):
            if value is None or len(value) > _MAX_SUMMARY_BYTES:
                continue
            try:
                summary = LiveSummary.model_validate_json(value)
            except ValidationError:
                logger.warning("cluster: the summary of %s could not be read; skipped", cid)
                continue
            if summary.conversation_id == cid:
                found[cid] = summary
        return found
