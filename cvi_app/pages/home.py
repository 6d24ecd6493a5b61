"""Home: what the app is, and (soon) where conversations are started."""

import reflex as rx

from cvi_app.components.layout import page_layout


@page_layout
def home() -> rx.Component:
    """The landing page."""
    return rx.vstack(
        rx.heading("Live conversations with a Tavus Replica", size="8", as_="h1"),
        rx.text(
            "Start a conversation, talk to the Replica in the call view, and drive it in real "
            "time: respond, echo, interrupt, change its context, answer its tool calls.",
            color_scheme="gray",
        ),
        spacing="4",
    )
