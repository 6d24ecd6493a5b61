"""Putting inbound events in protocol order and dropping the pal/replica twins newer Tavus sends.

Ordering: events are sorted by ``seq`` (stable, so equal ``seq`` keep arrival order). An event
without ``seq`` stays right after the event it arrived after (it moves with that event); events
without ``seq`` that arrive before any sequenced event stay at the front, in arrival order.

Twins: newer Tavus sends replica-side events twice, once with role ``pal`` and once with role
``replica`` (and ``system.pal_joined`` beside ``system.replica_joined``). Two events are twins
when they are the same kind of event, one from the pal and one from the replica, in the same
conversation, with the same ``inference_id`` (or both without one) and the same properties apart
from the role. ``seq``, ``turn_idx`` and ``timestamp`` may differ between twins.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Iterable

from .events import Event

__all__ = ["TwinFilter", "is_twin", "order_by_seq", "twin_key"]

_TWIN_ROLES = frozenset({"pal", "replica"})
_ROLE_CARRYING_TYPES = frozenset(
    {
        "conversation.utterance",
        "conversation.utterance.streaming",
        "conversation.started_speaking",
        "conversation.stopped_speaking",
    }
)
_JOINED_TYPES = frozenset({"system.pal_joined", "system.replica_joined"})

TwinKey = tuple[str | None, str, str | None, str]


def order_by_seq(events: Iterable[Event]) -> list[Event]:
    """Return events in ``seq`` order (see the module docstring for events without ``seq``).

    Args:
        events: Events in arrival order.

    Returns:
        A new list; the sort is stable.
    """
    keyed: list[tuple[tuple[int, int, int], Event]] = []
    anchor: int | None = None
    for arrival, event in enumerate(events):
        if event.seq is not None:
            anchor = event.seq
        # (0, ...) sorts events before the first sequenced one ahead of everything else.
        rank = (0, 0, arrival) if anchor is None else (1, anchor, arrival)
        keyed.append((rank, event))
    keyed.sort(key=lambda pair: pair[0])
    return [event for _, event in keyed]


def twin_key(event: Event) -> TwinKey | None:
    """Return what an event and its twin have in common, or None if it can have no twin.

    Args:
        event: Any inbound event.

    Returns:
        A hashable key equal for both events of a pal/replica pair (the role is left out).
    """
    if event.event_type in _JOINED_TYPES:
        return (event.conversation_id, "system.joined", None, "")
    if event.event_type not in _ROLE_CARRYING_TYPES or event.role not in _TWIN_ROLES:
        return None
    props = event.properties
    dumped = props if isinstance(props, dict) else props.model_dump(mode="json")
    rest = {key: value for key, value in dumped.items() if key != "role"}
    canonical = json.dumps(rest, sort_keys=True, ensure_ascii=False)
    return (event.conversation_id, event.event_type, event.inference_id, canonical)


def is_twin(a: Event, b: Event) -> bool:
    """Whether two events are the pal and replica copies of one logical event.

    Args:
        a: One event.
        b: Another event.

    Returns:
        True when one is from the pal and the other from the replica and they otherwise match.
    """
    key = twin_key(a)
    return key is not None and key == twin_key(b) and {a.role, b.role} == _TWIN_ROLES


class TwinFilter:
    """Keeps the first event of each pal/replica pair and drops its twin.

    Memory is bounded: only the last ``max_pending`` unmatched keys are remembered, which is
    plenty because twins arrive next to each other. A key is forgotten once its twin is seen,
    so a later, genuinely new event with the same content is kept.
    """

    def __init__(self, max_pending: int = 64) -> None:
        """Create a filter.

        Args:
            max_pending: How many unmatched events to remember.
        """
        if max_pending < 1:
            raise ValueError("max_pending must be at least 1")
        self._max_pending = max_pending
        self._pending: OrderedDict[TwinKey, str | None] = OrderedDict()

    def admit(self, event: Event) -> bool:
        """Decide whether an event should be kept.

        Args:
            event: The next inbound event (in protocol order).

        Returns:
            False if the event is the twin of one admitted earlier, else True.
        """
        key = twin_key(event)
        if key is None:
            return True
        seen_role = self._pending.get(key)
        if key in self._pending and seen_role != event.role:
            del self._pending[key]
            return False
        self._pending[key] = event.role
        self._pending.move_to_end(key)
        while len(self._pending) > self._max_pending:
            self._pending.popitem(last=False)
        return True
