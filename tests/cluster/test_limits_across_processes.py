"""A browser's live conversations and start limits count across processes: a conversation
another process holds is listed, and counts toward the live limit, on this one."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from limits.storage import RedisStorage

from cvi_app.access.start_limits import StartLimited, StartLimiter
from cvi_app.live.manager import StartOptions
from tests.cluster.nodes import ClusterEnv, cluster_env, local_node, spawn_node

__all__ = ["cluster_env"]

pytestmark = pytest.mark.timeout(120)

OWNER = "tab-across"


async def test_a_conversation_held_elsewhere_is_live_here_and_counts_toward_the_limit(
    cluster_env: ClusterEnv, tmp_path: Path
) -> None:
    async with local_node(cluster_env) as here:
        async with spawn_node(cluster_env, tmp_path / "node.log", start_for=OWNER) as there:
            assert await here.live_conversations(owner=OWNER) == [there.conversation_id]
            assert await here.live_conversations(owner="someone-else") == []

            here.start_limits.live_per_browser = 1
            with pytest.raises(StartLimited, match="already have 1 live conversation"):
                await here.start_conversation(owner=OWNER, options=StartOptions())
            assert await here.live_conversations(owner=OWNER) == [there.conversation_id]


def test_starts_counted_by_one_process_are_counted_by_every_process(
    cluster_env: ClusterEnv,
) -> None:
    def process_limiter() -> StartLimiter:
        return StartLimiter(
            per_browser="2/minute",
            per_address="100/minute",
            live_per_browser=10,
            storage=RedisStorage(cluster_env.redis.url),
        )

    first, second = process_limiter(), process_limiter()
    owner = f"tab-{uuid.uuid4().hex[:8]}"
    first.check(owner=owner, address=None, live=0)
    second.check(owner=owner, address=None, live=0)
    for limiter in (first, second):
        with pytest.raises(StartLimited, match="started too many conversations"):
            limiter.check(owner=owner, address=None, live=0)
