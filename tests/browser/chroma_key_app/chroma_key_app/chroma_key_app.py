"""Pages for tests/browser/test_chroma_key.py, run from a copy of this folder.

"/" and "/red" show `ChromaKeyVideo` (through `ChromaKeyProbe`, which makes its synthetic track
in the browser) keying Tavus's green and red out; "/calls" shows the call views with and
without `transparent`. The repository is on `PYTHONPATH` (for `cvi_app.components`).
"""

from __future__ import annotations

import reflex as rx

from cvi_app.components.daily_call import call_library
from cvi_app.components.sandbox_call import sandbox_call
from cvi_app.components.visitor_call import visitor_call

ROOM = "https://example.daily.co/room"


class ChromaKeyProbe(rx.Component):
    """`ChromaKeyVideo` over a canvas track painted half key green, half red."""

    library = call_library("chroma_key_probe.jsx")
    tag = "ChromaKeyProbe"

    key_color: rx.Var[list[int]]
    similarity: rx.Var[float]
    smoothness: rx.Var[float]


def _page(*children: rx.Component) -> rx.Component:
    return rx.el.main(
        rx.heading("Chroma key", as_="h1", size="6"),
        *children,
        style={"display": "grid", "gap": "16px", "padding": "16px", "max_width": "960px"},
    )


def index() -> rx.Component:
    """The default key colour (Tavus's green)."""
    return _page(ChromaKeyProbe.create())


def red() -> rx.Component:
    """Red as the key colour instead."""
    return _page(ChromaKeyProbe.create(key_color=[255, 0, 0], similarity=0.3, smoothness=0.1))


def calls() -> rx.Component:
    """Both call views, with `transparent` and (the sandbox) without; nothing is joined."""
    return _page(
        sandbox_call(url="", id="sandbox-plain", show_say_box=False),
        sandbox_call(url="", id="sandbox-clear", show_say_box=False, transparent=True),
        visitor_call(url=ROOM, token="", user_name="Visitor", id="call", transparent=True),
    )


app = rx.App()
app.add_page(index, route="/", title="Chroma key")
app.add_page(red, route="/red", title="Chroma key: red")
app.add_page(calls, route="/calls", title="Transparent calls")
