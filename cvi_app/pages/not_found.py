"""The page for an address the app has no page at (Reflex's 404 route)."""

import reflex as rx

from cvi_app.components.layout import page_layout


@page_layout
def not_found() -> rx.Component:
    """Say plainly that there is nothing here, and offer the way home and to the history."""
    return rx.vstack(
        rx.heading("Page not found", size="8", as_="h1"),
        rx.text("There is no page at this address. It may have moved, or the link is mistyped."),
        rx.hstack(
            rx.link("Go to the home page", href="/"),
            rx.link("See your conversations", href="/history"),
            spacing="4",
            wrap="wrap",
        ),
        spacing="4",
        width="100%",
    )
