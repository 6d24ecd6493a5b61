"""`StartLimiter`: how many conversations a browser, and an address, may start.

Every start can spend Tavus credits for up to its maximum duration, so starts are metered per
browser (its owner identity) and per client address, in moving windows (the `limits`
library), and a browser may hold only so many live conversations at once. With accounts, the
signed-in account takes the browser's place as the key, and the live limit is the team's.
"""

from __future__ import annotations

import math
import time

from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage, Storage
from limits.strategies import MovingWindowRateLimiter

__all__ = ["StartLimited", "StartLimiter"]


class StartLimited(Exception):
    """A start refused by a limit; the message is meant for the person who tried it."""


class StartLimiter:
    """Checks and counts starts.

    Args:
        per_browser: Limits per browser, e.g. "5/minute;30/hour".
        per_address: Limits per client address.
        live_per_browser: Live conversations one browser may hold at once.
        storage: Where the counts live (in memory by default; Redis for several processes).
    """

    def __init__(
        self,
        *,
        per_browser: str,
        per_address: str,
        live_per_browser: int,
        storage: Storage | None = None,
    ) -> None:
        self._per_browser = parse_many(per_browser)
        self._per_address = parse_many(per_address)
        self.live_per_browser = live_per_browser
        self._limiter = MovingWindowRateLimiter(storage or MemoryStorage())

    def check(
        self, *, owner: str, address: str | None, live: int, team_limit: int | None = None
    ) -> None:
        """Count one start, or raise `StartLimited` (counting nothing) when a limit is reached.

        Args:
            owner: Who starts: the browser's owner identity, or the signed-in account.
            address: The client's address, when known.
            live: How many live conversations the browser (or, with accounts, the team) holds.
            team_limit: With accounts: how many the team may hold (in place of the browser's).
        """
        if team_limit is not None and live >= team_limit:
            raise StartLimited(
                f"Your team already has {live} live conversations, the most it may have at "
                "once; end one before starting another."
            )
        if team_limit is None and live >= self.live_per_browser:
            raise StartLimited(
                f"You already have {live} live conversations; end one before starting another."
            )
        keyed: list[tuple[RateLimitItem, str, str]] = [
            (item, "browser", owner) for item in self._per_browser
        ]
        if address:
            keyed += [(item, "address", address) for item in self._per_address]
        for item, kind, key in keyed:
            if not self._limiter.test(item, "start", kind, key):
                wait = self._wait(item, kind, key)
                who = "You have" if kind == "browser" else "Your network has"
                raise StartLimited(
                    f"{who} started too many conversations in a short time; try again in {wait}."
                )
        for item, kind, key in keyed:
            self._limiter.hit(item, "start", kind, key)

    def _wait(self, item: RateLimitItem, kind: str, key: str) -> str:
        reset = self._limiter.get_window_stats(item, "start", kind, key).reset_time
        seconds = max(1, math.ceil(reset - time.time()))
        if seconds < 90:
            return f"{seconds} s"
        return f"{math.ceil(seconds / 60)} minutes"
