"""The state side of `live_feed`: a history sent once, then each update sent once.

A feed is a `base` (its history at the last reset) and a ring of `RING` slots, each holding one
push (the items one batch of updates added). Reflex sends only the vars that changed, so a push
costs one slot on the wire, not the feed. The browser keeps the whole list; it reads every slot
on each render, so the last `RING` pushes survive React rendering several deltas as one, and a
gap in the update counter `u` beyond that makes it ask for a resync.
"""

from __future__ import annotations

from typing import Any

Item = dict[str, Any]

RING = 6
"""Pushes the browser can render at once without missing one."""


def empty_feed() -> dict[str, Any]:
    """A feed that shows nothing yet."""
    return {"reset_id": 0, "base_u": 0, "count": 0, "items": []}


def reset_feed(feed: dict[str, Any], items: list[Item], counter: int) -> dict[str, Any]:
    """A feed the browser rebuilds from `items` (history), continuing from `counter`.

    `count` lets a browser tell a base whose items it has from one it only half received.
    """
    return {
        "reset_id": feed["reset_id"] + 1,
        "base_u": counter,
        "count": len(items),
        "items": items,
    }


def number_items(items: list[Item], counter: int) -> tuple[list[Item], int]:
    """Give each item the next update number `u`; returns the items and the last number."""
    numbered = []
    for item in items:
        counter += 1
        numbered.append({**item, "u": counter})
    return numbered, counter


def ring_slot(pushes: int) -> int:
    """The slot the `pushes`-th push (counting from 0) goes to."""
    return pushes % RING
