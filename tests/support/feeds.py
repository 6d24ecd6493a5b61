"""Reading the room's feeds (`cvi_app.state.feed`) the way the browser does."""

from __future__ import annotations

from typing import Any

from cvi_app.state.feed import RING

Item = dict[str, Any]


def sent_items(values: dict[str, Any], feed: str) -> list[Item]:
    """Every item of `feed` that one delta (or a whole state's values) carries: history, then pushes.

    Keys may be bare (`transcript`) or as on the wire (`transcript_rx_state_`).
    """

    def get(name: str) -> Any:
        return values.get(name, values.get(f"{name}_rx_state_"))

    base = get(feed)
    items: list[Item] = list(base["items"]) if base else []
    pushed = [item for slot in range(RING) for item in get(f"{feed}_{slot}") or []]
    return items + sorted(pushed, key=lambda item: item["u"])


def pushed_slots(values: dict[str, Any], feed: str) -> list[str]:
    """The ring slots of `feed` that one delta carries."""
    return [
        f"{feed}_{slot}"
        for slot in range(RING)
        if f"{feed}_{slot}" in values or f"{feed}_{slot}_rx_state_" in values
    ]


def pushed_items(state: Any, feed: str) -> list[Item]:
    """The items in a `FeedState`'s ring for `feed`, oldest first."""
    return sorted(
        (item for slot in range(RING) for item in getattr(state, f"{feed}_{slot}")),
        key=lambda item: item["u"],
    )
