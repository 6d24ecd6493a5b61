"""The state side of `live_feed`: a small window of recent updates, constant in size."""

from __future__ import annotations

from typing import Any

Item = dict[str, Any]

WINDOW = 6


def empty_feed() -> dict[str, Any]:
    """A feed that shows nothing yet."""
    return {"reset_id": 0, "base_u": 0, "count": 0, "items": [], "window": []}


def reset_feed(feed: dict[str, Any], items: list[Item], counter: int) -> dict[str, Any]:
    """A feed the browser rebuilds from `items` (history), continuing from `counter`.

    `count` (how many items the reset had) stays in every later update: a browser that first
    sees a reset after its items were dropped knows it missed them and asks for a resync.
    """
    return {
        "reset_id": feed["reset_id"] + 1,
        "base_u": counter,
        "count": len(items),
        "items": items,
        "window": [],
    }


def push_feed(feed: dict[str, Any], items: list[Item], counter: int) -> tuple[dict[str, Any], int]:
    """Add updates; the last `WINDOW` stay in state, and `items` of a reset are dropped.

    A burst bigger than the window stays whole, so the browser never sees a gap.
    """
    window = list(feed["window"])
    for item in items:
        counter += 1
        window.append({**item, "u": counter})
    keep = max(WINDOW, len(items))
    return (
        {
            "reset_id": feed["reset_id"],
            "base_u": feed["base_u"],
            "count": feed["count"],
            "items": [],
            "window": window[-keep:],
        },
        counter,
    )
