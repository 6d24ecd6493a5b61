"""The frame every page shares: a header with the product name and the mode badge."""

from collections.abc import Callable

import reflex as rx

from cvi_app import styles
from cvi_app.state import AppState


def mode_badge(mode: rx.Var[str]) -> rx.Component:
    """A badge saying whether the app talks to the local sandbox or to Tavus."""
    return rx.badge(
        rx.cond(mode == "tavus", "Tavus", rx.cond(mode == "sandbox", "Sandbox", "…")),
        color_scheme=rx.match(mode, ("tavus", "green"), ("sandbox", "amber"), "gray"),
        variant="soft",
        size="2",
        aria_label=rx.cond(mode == "", "mode loading", "mode " + mode),
        id="mode-badge",
    )


def _header() -> rx.Component:
    return rx.hstack(
        rx.link(rx.text("CVI Studio", size="6", weight="bold"), href="/", underline="none"),
        mode_badge(AppState.mode),
        rx.spacer(),
        rx.link("History", href="/history"),
        align="center",
        width="100%",
        padding_y="1rem",
    )


def page_layout(content: Callable[[], rx.Component]) -> Callable[[], rx.Component]:
    """Wrap a page body in the shared header and width."""

    def wrapped() -> rx.Component:
        return rx.container(
            _header(),
            rx.el.main(content(), style={"width": "100%"}),
            size="4",
            max_width=styles.PAGE_MAX_WIDTH,
        )

    wrapped.__name__ = content.__name__
    return wrapped
