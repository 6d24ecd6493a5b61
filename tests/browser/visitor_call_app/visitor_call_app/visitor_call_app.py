"""One page: the visitor call, a form that sets its room URL, and what its triggers reported.

Run by tests/browser/test_visitor_call.py from a copy of this folder, with the repository on
`PYTHONPATH` (for `cvi_app.components.visitor_call`).
"""

from __future__ import annotations

import json
from typing import Any

import reflex as rx

from cvi_app.components.visitor_call import visitor_call


class CallState(rx.State):
    """The room to join and every trigger the call fired, in order."""

    url: str = ""
    draft: str = ""
    events: list[dict[str, Any]] = []

    @rx.event
    def set_draft(self, value: str):
        """Keep what is typed into "Room URL"."""
        self.draft = value

    @rx.event
    def join(self):
        """Give the call the typed room URL."""
        self.url = self.draft.strip()

    @rx.event
    def joined(self, participant: dict[str, Any]):
        """Record on_joined."""
        self.events.append({"on": "joined", "participant": participant})

    @rx.event
    def left(self, reason: str):
        """Record on_left."""
        self.events.append({"on": "left", "reason": reason})

    @rx.event
    def error(self, message: str):
        """Record on_error."""
        self.events.append({"on": "error", "message": message})

    @rx.event
    def leave(self):
        """Record on_leave."""
        self.events.append({"on": "leave"})

    @rx.var
    def reported(self) -> str:
        """The triggers as JSON (what the test reads)."""
        return json.dumps(self.events)


def index() -> rx.Component:
    """The page under test."""
    return rx.el.main(
        rx.heading("Your call", as_="h1", size="6"),
        rx.el.div(
            rx.el.label("Room URL", html_for="room-url"),
            rx.el.input(id="room-url", value=CallState.draft, on_change=CallState.set_draft),
            rx.button("Join", variant="soft", on_click=CallState.join),
            style={"display": "flex", "gap": "var(--space-2)", "flex_wrap": "wrap"},
        ),
        visitor_call(
            url=CallState.url,
            token="",
            user_name="Visitor",
            id="call",
            on_joined=CallState.joined,
            on_left=CallState.left,
            on_error=CallState.error,
            on_leave=CallState.leave,
        ),
        rx.el.pre(
            CallState.reported,
            id="reported",
            style={"white_space": "pre-wrap", "overflow_wrap": "anywhere"},
        ),
        style={
            "display": "grid",
            "gap": "var(--space-4)",
            "padding": "var(--space-4)",
            "max_width": "960px",
            "margin": "0 auto",
        },
    )


app = rx.App()
app.add_page(index, route="/", title="Visitor call")
