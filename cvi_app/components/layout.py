"""The frame every page shares.

A skip link, a header landmark with the product name, the mode badge and the navigation, then
the page's main content, centred on wide screens.
"""

from collections.abc import Callable

import reflex as rx

from cvi_app import styles
from cvi_app.accounts.routes import SIGN_OUT_PATH
from cvi_app.components.native_form import native_form
from cvi_app.state import AppState

MAIN_ID = "main"

# Out of sight until it has the keyboard focus (the first Tab on every page).
_SKIP_LINK_STYLE = {
    "position": "absolute",
    "left": "1rem",
    "top": "0.5rem",
    "z_index": "10",
    "padding": "0.5rem 1rem",
    "border_radius": "6px",
    "background": rx.color("accent", 9),
    "color": rx.color("accent", 1),
    "transform": "translateY(-200%)",
    "&:focus": {"transform": "none"},
}


def mode_badge(mode: rx.Var[str]) -> rx.Component:
    """A badge saying whether the app talks to the local sandbox or to Tavus."""
    return rx.badge(
        rx.cond(mode == "tavus", "Tavus", rx.cond(mode == "sandbox", "Sandbox", "…")),
        color_scheme=rx.match(mode, ("tavus", "green"), ("sandbox", "amber"), "gray"),
        variant="soft",
        # Radix's soft amber text reads at 4.2:1 on its own background; high contrast is 4.5+.
        high_contrast=True,
        size="2",
        aria_label=rx.cond(mode == "", "mode loading", "mode " + mode),
        id="mode-badge",
    )


def _account_menu() -> rx.Component:
    """Who is signed in, and the way out (a form the browser posts: the cookie is HttpOnly)."""
    return rx.hstack(
        rx.text(AppState.signed_in_email, " (", AppState.signed_in_role, ")", size="2"),
        native_form(
            rx.button("Sign out", type="submit", variant="soft", size="1"),
            path=SIGN_OUT_PATH,
        ),
        align="center",
        spacing="2",
        id="account-menu",
    )


def _header() -> rx.Component:
    return rx.el.header(
        rx.hstack(
            rx.link(rx.text("CVI Studio", size="6", weight="bold"), href="/", underline="none"),
            mode_badge(AppState.mode),
            rx.spacer(),
            rx.el.nav(
                rx.hstack(
                    rx.cond(
                        AppState.signed_in_role != "viewer",
                        rx.fragment(
                            rx.link("Console", href="/console"),
                            rx.link("Pages", href="/deployments"),
                        ),
                    ),
                    rx.link("History", href="/history"),
                    rx.link("Insights", href="/insights"),
                    rx.cond(
                        AppState.signed_in_role == "admin",
                        rx.fragment(
                            rx.link("Accounts", href="/accounts"),
                            rx.link("Audit log", href="/audit"),
                        ),
                    ),
                    spacing="4",
                    wrap="wrap",
                    align="center",
                ),
                aria_label="Main",
            ),
            rx.cond(AppState.signed_in_email != "", _account_menu()),
            align="center",
            width="100%",
            padding_y="1rem",
            wrap="wrap",
        ),
        style={"width": "100%"},
    )


def scroll_region(name: str, table: rx.Component, *, min_width: str = "40rem") -> rx.Component:
    """A wide table scrolling sideways inside a named region the keyboard can focus.

    The table is at least `min_width` wide. Radix's table scrolls inside its own scroll area,
    which the keyboard cannot reach: that area is let overflow, so this region scrolls instead
    (on a narrow screen, the region scrolls, never the page).
    """
    return rx.box(
        table,
        role="region",
        aria_label=name,
        tab_index=0,
        width="100%",
        overflow_x="auto",
        style={
            "& .rt-ScrollAreaRoot": {"overflow": "visible"},
            # Radix sets the viewport's overflow inline: only !important overrides it.
            "& .rt-ScrollAreaViewport": {"overflow": "visible !important"},
            "& .rt-ScrollAreaScrollbar": {"display": "none"},
            "& table": {"min_width": min_width},
        },
    )


def page_layout(content: Callable[[], rx.Component]) -> Callable[[], rx.Component]:
    """Wrap a page body in the shared skip link, header and width."""

    def wrapped() -> rx.Component:
        return rx.container(
            # Reflex renders links as router links, which do not move the focus to a fragment:
            # the click focuses the main content itself.
            rx.el.a(
                "Skip to main content",
                href=f"#{MAIN_ID}",
                on_click=[rx.prevent_default, rx.set_focus(MAIN_ID)],
                style=_SKIP_LINK_STYLE,
            ),
            _header(),
            # Focusable from the skip link only (not in the Tab order).
            rx.el.main(content(), id=MAIN_ID, tab_index=-1, style={"width": "100%"}),
            size="4",
            max_width=styles.PAGE_MAX_WIDTH,
            margin_x="auto",
        )

    wrapped.__name__ = content.__name__
    return wrapped
