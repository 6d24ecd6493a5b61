"""Live ordering of inbound events by `seq`, with duplicates dropped.

Events normally arrive in order, and then pass straight through. When one arrives ahead of a
gap (seq 7 after 5), it is held for a short while for the missing one; when the wait runs out
the held events are released in order anyway, so a lost event never stalls the stream. Events
without a `seq` pass straight through.
"""

from __future__ import annotations

import heapq
import itertools
from collections import deque

from cvi_app.protocol import Event

DEFAULT_GAP_TIMEOUT = 0.05
_SEEN_WINDOW = 4096


class SeqOrderer:
    """Reorders a live stream of events by `seq` and drops repeated `seq` values."""

    def __init__(self, *, gap_timeout: float = DEFAULT_GAP_TIMEOUT) -> None:
        self.gap_timeout = gap_timeout
        self._last: int | None = None
        self._held: list[tuple[int, int, Event]] = []
        self._tiebreak = itertools.count()
        self._seen: set[int] = set()
        self._seen_order: deque[int] = deque()
        self.duplicates = 0

    @property
    def holding(self) -> bool:
        """Whether events are waiting for a gap to fill."""
        return bool(self._held)

    def push(self, event: Event) -> list[Event]:
        """Take one event; return the events that may be delivered now, in order."""
        seq = event.seq
        if seq is None:
            return [event]
        if seq in self._seen or any(held_seq == seq for held_seq, _, _ in self._held):
            self.duplicates += 1
            return []
        if self._last is None or seq == self._last + 1:
            self._mark(seq)
            return [event, *self._release_contiguous()]
        if seq < self._last:
            # Late: its place has passed. Deliver it rather than lose it; the store and the
            # history views order by seq.
            self._remember(seq)
            return [event]
        heapq.heappush(self._held, (seq, next(self._tiebreak), event))
        return []

    def release_all(self) -> list[Event]:
        """Give up waiting for missing events: deliver everything held, in order."""
        released = []
        while self._held:
            seq, _, event = heapq.heappop(self._held)
            self._mark(seq)
            released.append(event)
        return released

    def _release_contiguous(self) -> list[Event]:
        released = []
        while self._held and self._last is not None and self._held[0][0] == self._last + 1:
            seq, _, event = heapq.heappop(self._held)
            self._mark(seq)
            released.append(event)
        return released

    def _mark(self, seq: int) -> None:
        self._last = seq if self._last is None else max(self._last, seq)
        self._remember(seq)

    def _remember(self, seq: int) -> None:
        self._seen.add(seq)
        self._seen_order.append(seq)
        if len(self._seen_order) > _SEEN_WINDOW:
            self._seen.discard(self._seen_order.popleft())
