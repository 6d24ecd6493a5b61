"""`live_feed`: a list kept in the browser, fed by a history and a ring of pushes from state.

Per-event websocket traffic stays constant however long the conversation gets: each push is
sent once, in its own ring slot (`cvi_app.state.feed`), and the component upserts it into its
own list. An event
row may stand for a group of messages (`presentation.rows.EventGroups`); the row opens by
keyboard (a button with `aria-expanded`) and copies its JSON ("Copy as JSON").
"""

from __future__ import annotations

from typing import Any

import reflex as rx

_LIBRARY = rx.asset("live_feed.jsx", shared=True)


class LiveFeed(rx.Component):
    """A transcript or event log whose full contents live in the browser."""

    library = _LIBRARY.importable_path
    tag = "LiveFeed"

    feed: rx.Var[dict[str, Any]]
    updates: rx.Var[list[list[dict[str, Any]]]]
    kind: rx.Var[str]
    filter: rx.Var[str]
    empty_text: rx.Var[str]
    history_href: rx.Var[str]

    on_gap: rx.EventHandler[lambda last: [last]]


live_feed = LiveFeed.create
