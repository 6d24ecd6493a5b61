"""The guest's page (`/guest?invite=...`): join a live conversation's call as one more person."""

import reflex as rx

from cvi_app.components.device_check import device_check
from cvi_app.components.sandbox_call import sandbox_call
from cvi_app.components.visitor_call import visitor_call
from cvi_app.state.app_state import AppState
from cvi_app.state.invite_state import GuestState

__all__ = ["guest"]


def _call() -> rx.Component:
    return rx.vstack(
        rx.cond(
            AppState.mode == "tavus",
            visitor_call(
                url=GuestState.join_url,
                id="guest-call",
                user_name="Guest",
                on_left=GuestState.call_left,
                on_leave=GuestState.leave,
            ),
            sandbox_call(
                url=GuestState.join_url,
                id="guest-call",
                user_name="Guest",
                on_left=GuestState.call_left,
                width="100%",
            ),
        ),
        rx.cond(
            AppState.mode == "tavus",
            rx.fragment(),
            rx.button(
                "Leave", size="3", color_scheme="red", variant="soft", on_click=GuestState.leave
            ),
        ),
        spacing="3",
        width="100%",
    )


def guest() -> rx.Component:
    """A guest joining someone's conversation."""
    return rx.el.main(
        rx.vstack(
            rx.heading("Join the conversation", size="7", as_="h1"),
            rx.match(
                GuestState.step,
                ("refused", rx.text(GuestState.message)),
                (
                    "check",
                    rx.vstack(
                        rx.text("You have been invited to join a conversation with an AI agent."),
                        device_check(id="guest-devices", width="100%"),
                        rx.button("Join the call", size="3", on_click=GuestState.join),
                        spacing="3",
                        width="100%",
                    ),
                ),
                ("call", _call()),
                (
                    "left",
                    rx.text(
                        rx.cond(GuestState.message != "", GuestState.message, "You left the call.")
                    ),
                ),
                rx.text("Checking your invitation…", role="status"),
            ),
            spacing="4",
            width="100%",
        ),
        style={"max_width": "44rem", "margin": "0 auto", "padding": "1.25rem 1rem 2rem"},
    )
