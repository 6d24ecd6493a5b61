"""Helpers for transport tests."""

from __future__ import annotations

import asyncio
from collections.abc import Callable


async def wait_until(condition: Callable[[], bool], *, within: float = 5.0) -> None:
    """Wait until `condition()` holds, failing the test after `within` seconds."""
    async with asyncio.timeout(within):
        # Conditions span several objects and threads; polling keeps the tests simple.
        while not condition():  # noqa: ASYNC110
            await asyncio.sleep(0.01)
