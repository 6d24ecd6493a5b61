"""Starting a visitor's conversation from a public page, under that page's own limits.

A page may have at most `max_live` conversations at once, and each visitor (their browser, and
separately their network address) may start `starts_per_hour` an hour. A refusal is a
`VisitRefused` whose message is a friendly sentence for the visitor, never an error code; what
went wrong in detail goes to the log.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import defaultdict

from limits import RateLimitItemPerHour
from limits.storage import MemoryStorage, Storage
from limits.strategies import MovingWindowRateLimiter

from cvi_app.access.start_limits import StartLimited
from cvi_app.deployments.models import Deployment
from cvi_app.deployments.queries import count_live_visits
from cvi_app.live.errors import SessionError
from cvi_app.live.manager import SessionManager, StartOptions, VisitTag
from cvi_app.store.db import get_engine, run_in_transaction
from cvi_app.tavus import TavusError
from cvi_app.tavus.models import Conversation
from cvi_app.transport.base import TransportError

__all__ = ["BUSY", "VisitLimiter", "VisitRefused", "start_visit", "visit_options"]

logger = logging.getLogger(__name__)

BUSY = "All our agents are busy, please try again in a minute."
UNAVAILABLE = "This page is not taking conversations right now. Please try again later."
FAILED = "We could not start the conversation. Please try again in a moment."


class VisitRefused(Exception):
    """A visitor's start refused; the message is meant for the visitor."""


class VisitLimiter:
    """Counts visitors' starts per page, per browser and per address (moving windows).

    Args:
        storage: Where the counts live (in memory by default; Redis for several processes).
    """

    def __init__(self, storage: Storage | None = None) -> None:
        self._limiter = MovingWindowRateLimiter(storage or MemoryStorage())

    def check(self, deployment: Deployment, *, visitor: str, address: str | None) -> None:
        """Count one start, or raise `VisitRefused` (counting nothing)."""
        item = RateLimitItemPerHour(deployment.starts_per_hour)
        keys = [("visitor", visitor)] + ([("address", address)] if address else [])
        for kind, key in keys:
            if not self._limiter.test(item, "visit", str(deployment.id), kind, key):
                reset = self._limiter.get_window_stats(
                    item, "visit", str(deployment.id), kind, key
                ).reset_time
                minutes = max(1, math.ceil((reset - time.time()) / 60))
                raise VisitRefused(
                    "You have started several conversations in a short time. Please try again "
                    f"in {minutes} minute{'s' if minutes != 1 else ''}."
                )
        for kind, key in keys:
            self._limiter.hit(item, "visit", str(deployment.id), kind, key)


def visit_options(deployment: Deployment) -> StartOptions:
    """What a visitor's conversation is started with: everything the page sets."""
    return StartOptions(
        persona_id=deployment.persona_id or None,
        replica_id=deployment.replica_id or None,
        name=f"{deployment.title} (visitor)"[:200],
        context=deployment.context,
        greeting=deployment.greeting,
        max_call_duration=deployment.max_duration_s,
        # A visitor who closes the tab has left: end soon, so the page's places free up.
        participant_left_timeout=30,
        language=deployment.language,
        captions=deployment.captions,
        transparent=deployment.transparent,
        record=deployment.record,
    )


_page_locks: defaultdict[int, asyncio.Lock] = defaultdict(asyncio.Lock)


async def start_visit(
    manager: SessionManager,
    deployment: Deployment,
    *,
    visitor: str,
    address: str | None,
    limiter: VisitLimiter,
) -> Conversation:
    """Start a visitor's conversation, or refuse in a sentence the visitor can act on.

    Raises:
        VisitRefused: The page is off or full, the visitor started too many, or the start
            failed (the detail is logged).
    """
    if not deployment.enabled or deployment.id is None:
        raise VisitRefused(UNAVAILABLE)
    if not visitor:
        raise VisitRefused("Please reload the page and try again.")
    # The count and the start under one lock, so two visitors at once cannot both take the
    # last place (in this process; in the cluster a page can go over by one per process).
    async with _page_locks[deployment.id]:
        live = await run_in_transaction(
            get_engine(), lambda s: count_live_visits(s, deployment_id=deployment.id or 0)
        )
        if live >= deployment.max_live:
            raise VisitRefused(BUSY)
        await asyncio.to_thread(limiter.check, deployment, visitor=visitor, address=address)
        try:
            return await manager.start_conversation(
                owner=deployment.owner_session,
                options=visit_options(deployment),
                address=address,
                started_by=f"visitor of /p/{deployment.slug}",
                visit=VisitTag(deployment_id=deployment.id, visitor=visitor),
            )
        except StartLimited as exc:
            logger.info("page %s: start refused by the team's limit: %s", deployment.slug, exc)
            raise VisitRefused(BUSY) from None
        except (TavusError, SessionError, TransportError) as exc:
            logger.warning("page %s: a visitor's start failed: %s", deployment.slug, exc)
            if "concurrency" in type(exc).__name__.lower():
                raise VisitRefused(BUSY) from None
            raise VisitRefused(FAILED) from None
        except Exception:
            # Whatever else went wrong, the visitor reads a sentence; the detail is logged.
            logger.exception("page %s: a visitor's start failed", deployment.slug)
            raise VisitRefused(FAILED) from None
