"""Timers a session keeps on its call: is the replica answering, and is anyone still there.

`ReplyWatch` tells the tabs (through a notice) when the replica has not answered a turn within
its timeout, and when it answers again. `EmptyRoomWatch` ends the session's part in a call that
every person has left, after a grace period so a reload can rejoin first.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

__all__ = ["EmptyRoomWatch", "ReplyWatch"]

logger = logging.getLogger(__name__)


class ReplyWatch:
    """Expects a word from the replica within `timeout` seconds of each turn sent.

    Args:
        conversation_id: for the log.
        timeout: seconds a turn may go without any word from the replica.
        notice: called with (text, active): active while the replica is silent, then False.
    """

    def __init__(
        self, conversation_id: str, *, timeout: float, notice: Callable[[str, bool], None]
    ) -> None:
        self.conversation_id = conversation_id
        self.timeout = timeout
        self.silent = False
        self._notice = notice
        self._timer: asyncio.TimerHandle | None = None

    def expect_reply(self) -> None:
        """A turn was sent: start the clock (unless it already runs)."""
        if self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self.timeout, self._overdue)

    def replica_spoke(self) -> None:
        """Any word from the replica: stop the clock, and clear a silence notice."""
        self.stop()
        if self.silent:
            self.silent = False
            self._notice("The replica is answering again.", False)

    def stop(self) -> None:
        """Stop the clock (the conversation ended, or the replica spoke)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _overdue(self) -> None:
        self._timer = None
        self.silent = True
        logger.warning(
            "conversation %s: the replica has not answered for %gs",
            self.conversation_id,
            self.timeout,
        )
        self._notice(f"The replica has not answered for {self.timeout:g} s.", True)


class EmptyRoomWatch:
    """Calls `empty` once every person has left the call and `grace` seconds have passed.

    The app's own participant must not keep a call alive that every person has left (Tavus
    counts it as a participant). Nothing happens before a person has been seen.
    """

    def __init__(self, *, grace: float, people: Callable[[], int], empty: Callable[[], object]):
        self.grace = grace
        self._people = people
        self._empty = empty
        self._seen = False
        self._timer: asyncio.TimerHandle | None = None

    def look(self) -> None:
        """Count who is there now (after joining): a person there counts as seen."""
        self._seen = self._people() > 0

    def person_joined(self) -> None:
        """A person joined: they are seen, and an empty-room countdown stops."""
        self._seen = True
        self.stop()

    def person_left(self) -> None:
        """A person left: start the countdown if nobody is left."""
        if self._seen and self._people() == 0 and self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self.grace, self._empty)

    def stop(self) -> None:
        """Stop the countdown."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
