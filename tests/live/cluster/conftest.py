"""The cluster parts' tests share one real Redis server (started by the test session)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from tests.support.redis_server import RedisServer


@pytest.fixture
async def redis(redis_server: RedisServer) -> AsyncIterator[Redis]:
    """A client of the test session's Redis."""
    client = Redis.from_url(redis_server.url)
    yield client
    await client.aclose()
