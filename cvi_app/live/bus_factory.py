"""Which live update bus a process uses: in-process (embedded shape) or Redis (cluster shape).

The cluster shape is chosen by Reflex's own setting, `REFLEX_REDIS_URL`: with it, the app's
live updates go through the same Redis that carries Reflex's state between processes.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from cvi_app.live.bus import EventBus, LiveBus
from cvi_app.live.redis_bus import DEFAULT_MAXLEN, RedisBus
from cvi_app.live.update_codec import decode_update, encode_update
from cvi_app.live.updates import LiveUpdate

__all__ = ["REDIS_URL_VARIABLE", "configured_redis_url", "make_bus"]

REDIS_URL_VARIABLE = "REFLEX_REDIS_URL"


def configured_redis_url(environ: Mapping[str, str] = os.environ) -> str | None:
    """The Redis URL the environment sets (`REFLEX_REDIS_URL`), or None when it sets none."""
    value = environ.get(REDIS_URL_VARIABLE, "").strip()
    return value or None


def make_bus(redis_url: str | None, *, maxlen: int = DEFAULT_MAXLEN) -> LiveBus[LiveUpdate]:
    """The bus for live updates: over Redis streams when `redis_url` is set, else in-process.

    Args:
        redis_url: Where Redis is (see `configured_redis_url`), or None for the embedded shape.
        maxlen: Updates kept per conversation's stream (Redis only).
    """
    if redis_url is None:
        return EventBus()
    return RedisBus(redis_url, encode=encode_update, decode=decode_update, maxlen=maxlen)
