"""Which sites may frame a public page (`?embed=1`), for the content policy's frame-ancestors.

The web guard asks `framing_origins(path)` for every page response; only `/p/<slug>` paths of
an enabled page with allowed origins get any. Answers are kept for a few seconds, so a page
load costs no query, and a changed list applies within that time.

What an embedded page tells the page around it (`window.postMessage`, to the allowed origins
only; see `assets/host_events.js` and the README's "Embedding a public page"):
`cvi.conversation_started`, `cvi.conversation_ended` (`reason`), `cvi.replica_started_speaking`,
`cvi.replica_stopped_speaking`, `cvi.tool_call` (`name`), `cvi.error` (`message`); each as
`{"source": "cvi-studio", "type": ..., "page": <slug>, ...}`.
"""

from __future__ import annotations

import logging

from cachetools import TTLCache

from cvi_app.deployments.models import SLUG_PATTERN
from cvi_app.deployments.queries import get_deployment
from cvi_app.store.db import get_engine, run_in_transaction

__all__ = ["HOST_EVENTS", "PAGE_PREFIX", "forget_framing", "framing_origins"]

logger = logging.getLogger(__name__)

PAGE_PREFIX = "/p/"
HOST_EVENTS = (
    "cvi.conversation_started",
    "cvi.conversation_ended",
    "cvi.replica_started_speaking",
    "cvi.replica_stopped_speaking",
    "cvi.tool_call",
    "cvi.error",
)
_cache: TTLCache[str, tuple[str, ...]] = TTLCache(maxsize=2048, ttl=5.0)


def _slug(path: str) -> str | None:
    if not path.startswith(PAGE_PREFIX):
        return None
    slug = path[len(PAGE_PREFIX) :].strip("/").split("/", 1)[0]
    return slug if SLUG_PATTERN.match(slug) else None


async def framing_origins(path: str) -> tuple[str, ...]:
    """The origins that may frame the page at `path` (none for every other path)."""
    slug = _slug(path)
    if slug is None:
        return ()
    cached = _cache.get(slug)
    if cached is not None:
        return cached
    try:
        found = await run_in_transaction(get_engine(), lambda s: get_deployment(s, slug=slug))
    except Exception:
        logger.exception("embedding: reading page %s failed; framing only by this site", slug)
        return ()
    origins = tuple(found.origins()) if found is not None and found.enabled else ()
    _cache[slug] = origins
    return origins


def forget_framing(slug: str) -> None:
    """Drop what is kept for `slug` (after its page changed, in this process)."""
    _cache.pop(slug, None)
