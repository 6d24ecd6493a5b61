"""Sign in: email and password, posted by the browser to the sign-in route."""

import reflex as rx

from cvi_app.accounts.routes import SIGN_IN_PATH
from cvi_app.components.layout import page_layout
from cvi_app.components.native_form import native_form
from cvi_app.state import AppState
from cvi_app.state.sign_in_state import SignInState


def _field(label: str, **props) -> rx.Component:
    ident = f"sign-in-{props['name']}"
    return rx.vstack(
        rx.el.label(label, html_for=ident),
        rx.input(id=ident, required=True, width="100%", size="3", **props),
        spacing="1",
        width="100%",
    )


def _form() -> rx.Component:
    return native_form(
        rx.vstack(
            rx.cond(
                SignInState.problem != "",
                rx.callout(SignInState.problem, color_scheme="red", role="alert", width="100%"),
            ),
            rx.cond(SignInState.info != "", rx.callout(SignInState.info, width="100%")),
            _field("Email", name="email", type="email", auto_complete="username"),
            _field("Password", name="password", type="password", auto_complete="current-password"),
            rx.el.input(type="hidden", name="next", value=SignInState.next_path),
            rx.button("Sign in", type="submit", size="3"),
            spacing="4",
            width="100%",
        ),
        path=SIGN_IN_PATH,
        aria_label="Sign in",
        style={"width": "100%", "max_width": "24rem"},
    )


@page_layout
def sign_in() -> rx.Component:
    """The sign-in form, or a word that sign-in is off here."""
    return rx.vstack(
        rx.heading("Sign in", size="8", as_="h1"),
        rx.cond(
            SignInState.accounts_on,
            rx.cond(
                AppState.signed_in_email != "",
                rx.text("You are signed in as ", rx.text.strong(AppState.signed_in_email), "."),
                rx.vstack(
                    rx.text("Sign in with the account an admin of your team made for you."),
                    _form(),
                    width="100%",
                ),
            ),
            rx.vstack(
                rx.text("Sign-in is off in this sandbox: everything here is open to this browser."),
                rx.link("Go to the home page", href="/"),
            ),
        ),
        spacing="4",
        width="100%",
    )
