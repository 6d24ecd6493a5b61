"""The public page `/p/<slug>`: what a visitor with no account sees, phone first.

Landing (title, intro, Start), the camera and microphone check, the call with the replica
(its tile and captions, a box to type in sandbox mode, Leave), and the end screen with an
optional rating. `?embed=1` drops the page's own margins for an `<iframe>`.
"""

import reflex as rx
from reflex.config import get_config

from cvi_app.components.device_check import device_check
from cvi_app.components.sandbox_call import DEFAULT_REPLICA_IMAGE, sandbox_call
from cvi_app.components.visitor_call import visitor_call
from cvi_app.state.app_state import AppState
from cvi_app.state.visit_state import VisitState

__all__ = ["visit"]

CALL_ID = "visit-call"
# On a transparent page the sandbox's replica has no backdrop of its own either.
_REPLICA_IMAGE = rx.cond(
    VisitState.transparent,
    get_config().prepend_frontend_path("/sandbox_replica_cutout.svg"),
    get_config().prepend_frontend_path(DEFAULT_REPLICA_IMAGE),
)
MAIN_ID = "visit-main"

_ACCENT_BUTTON = {"background": VisitState.accent, "color": VisitState.accent_text}
_ROOM_TO_HOST = rx.Var("((data) => window.__cviHost && window.__cviHost.fromRoom(data))").to(
    rx.vars.FunctionVar
)


def _notice() -> rx.Component:
    return rx.cond(
        VisitState.message != "",
        rx.callout.root(
            rx.callout.text(VisitState.message), color="amber", role="alert", width="100%"
        ),
    )


def _landing() -> rx.Component:
    return rx.vstack(
        rx.cond(VisitState.intro != "", rx.text(VisitState.intro, size="4")),
        _notice(),
        rx.button("Start", size="4", on_click=VisitState.begin, style=_ACCENT_BUTTON),
        rx.text(
            "You will talk with an AI video agent. You can type instead of speaking.",
            size="2",
            color_scheme="gray",
        ),
        spacing="4",
        width="100%",
    )


def _code() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.el.label("Access code", html_for="visit-code", style={"font_weight": "500"}),
            rx.input(
                name="code",
                id="visit-code",
                type="password",
                auto_complete="off",
                max_length=64,
                width="100%",
            ),
            rx.cond(
                VisitState.code_error != "",
                rx.text(VisitState.code_error, color_scheme="red", role="alert"),
            ),
            rx.button("Continue", type="submit", style=_ACCENT_BUTTON),
            spacing="2",
            width="100%",
        ),
        on_submit=VisitState.enter_code,
        aria_label="Enter the access code",
        width="100%",
    )


def _check() -> rx.Component:
    return rx.vstack(
        rx.heading("Check your camera and microphone", size="5", as_="h2"),
        device_check(
            id="visit-devices",
            on_change=VisitState.devices_checked,
            on_problem=VisitState.device_problem,
            width="100%",
        ),
        rx.hstack(
            rx.button(
                "Join the conversation", size="3", on_click=VisitState.start, style=_ACCENT_BUTTON
            ),
            rx.button("Back", size="3", variant="soft", on_click=VisitState.back),
            spacing="3",
            wrap="wrap",
        ),
        spacing="3",
        width="100%",
    )


def _call() -> rx.Component:
    return rx.vstack(
        rx.cond(
            VisitState.join_url == "",
            rx.text("Connecting…", role="status"),
            rx.cond(
                AppState.mode == "tavus",
                # The visitor's call on Daily's call object, with its own Leave button.
                visitor_call(
                    url=VisitState.join_url,
                    id=CALL_ID,
                    user_name="Visitor",
                    captions=VisitState.captions,
                    accent=VisitState.accent,
                    transparent=VisitState.transparent,
                    on_left=VisitState.call_left,
                    on_leave=VisitState.leave,
                    on_app_message=_ROOM_TO_HOST,
                ),
                rx.cond(
                    VisitState.captions,
                    sandbox_call(
                        url=VisitState.join_url,
                        id=CALL_ID,
                        user_name="Visitor",
                        transparent=VisitState.transparent,
                        replica_image=_REPLICA_IMAGE,
                        on_left=VisitState.call_left,
                        on_app_message=_ROOM_TO_HOST,
                        width="100%",
                    ),
                    sandbox_call(
                        url=VisitState.join_url,
                        id=CALL_ID,
                        user_name="Visitor",
                        caption="",
                        transparent=VisitState.transparent,
                        replica_image=_REPLICA_IMAGE,
                        on_left=VisitState.call_left,
                        on_app_message=_ROOM_TO_HOST,
                        width="100%",
                    ),
                ),
            ),
        ),
        rx.cond(
            AppState.mode == "tavus",
            rx.fragment(),
            rx.button(
                "Leave", size="3", color_scheme="red", variant="soft", on_click=VisitState.leave
            ),
        ),
        spacing="3",
        width="100%",
    )


def _star(value: str) -> rx.Component:
    return rx.el.label(
        rx.el.input(
            type="radio",
            name="rating",
            value=value,
        ),
        " ",
        value,
        style={
            "display": "inline-flex",
            "gap": "0.25rem",
            "align_items": "center",
            "padding": "0.25rem",
        },
    )


def _ended() -> rx.Component:
    return rx.vstack(
        rx.heading("Thank you for talking with us.", size="5", as_="h2"),
        rx.form(
            rx.vstack(
                rx.el.fieldset(
                    rx.el.legend(
                        "How was it? (1 is poor, 5 is great)", style={"font_weight": "500"}
                    ),
                    rx.hstack(
                        *(_star(v) for v in ("1", "2", "3", "4", "5")), spacing="2", wrap="wrap"
                    ),
                    style={"border": 0, "padding": 0, "margin": 0},
                ),
                rx.el.label("Anything to add? (optional)", html_for="visit-comment"),
                rx.text_area(
                    name="comment", id="visit-comment", max_length=1000, rows="3", width="100%"
                ),
                rx.cond(
                    VisitState.rating_error != "",
                    rx.text(VisitState.rating_error, color_scheme="red", role="alert"),
                ),
                rx.hstack(
                    rx.button("Send", type="submit", style=_ACCENT_BUTTON),
                    rx.button(
                        "Start again", type="button", variant="soft", on_click=VisitState.again
                    ),
                    spacing="3",
                ),
                spacing="2",
                width="100%",
            ),
            on_submit=VisitState.send_rating,
            aria_label="Your rating",
            width="100%",
        ),
        spacing="3",
        width="100%",
    )


def _rated() -> rx.Component:
    return rx.vstack(
        rx.heading("Thanks for your feedback.", size="5", as_="h2"),
        rx.button("Start again", variant="soft", on_click=VisitState.again),
        spacing="3",
    )


def _body() -> rx.Component:
    return rx.match(
        VisitState.step,
        ("loading", rx.text("Loading…", role="status")),
        ("closed", rx.text(VisitState.message)),
        ("code", _code()),
        ("landing", _landing()),
        ("check", _check()),
        ("starting", rx.text("Starting your conversation…", role="status")),
        ("call", _call()),
        ("ended", _ended()),
        ("rated", _rated()),
        rx.text("Loading…", role="status"),
    )


def visit() -> rx.Component:
    """A public page, for visitors."""
    return rx.box(
        rx.script(src="/host_events.js"),
        rx.el.div(
            id="cvi-host",
            data_origins=VisitState.host_origins,
            data_page=VisitState.slug,
            style={"display": "none"},
        ),
        rx.el.main(
            rx.vstack(
                rx.hstack(
                    rx.cond(
                        VisitState.logo_url != "",
                        rx.image(src=VisitState.logo_url, alt="", height="2.5rem", width="auto"),
                    ),
                    rx.heading(VisitState.title, size="7", as_="h1"),
                    align="center",
                    spacing="3",
                ),
                _body(),
                spacing="4",
                width="100%",
            ),
            id=MAIN_ID,
            style={"width": "100%"},
        ),
        max_width="44rem",
        margin_x="auto",
        padding=rx.cond(VisitState.embed, "0.75rem", "1.25rem 1rem 2rem"),
        style={"--visit-accent": VisitState.accent},
    )
