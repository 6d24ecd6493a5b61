"""The sign-in page: why the last attempt failed, and where to go after signing in."""

import reflex as rx

from cvi_app.accounts.routes import safe_next
from cvi_app.config import get_settings

_PROBLEMS = {
    "invalid": "That email and password do not match an account. Check them and try again.",
    "limited": "Too many sign-in attempts. Wait a few minutes, then try again.",
}


class SignInState(rx.State):
    """What the sign-in form shows; the form itself posts to the sign-in route."""

    problem: str = ""
    info: str = ""
    next_path: str = "/"
    accounts_on: bool = True

    @rx.event
    def load(self) -> None:
        """Read the page's query: the failure the route reported, and the page to return to."""
        params = self.router.url.query_parameters
        self.accounts_on = get_settings().accounts_on
        self.problem = _PROBLEMS.get(str(params.get("error", "")), "")
        self.info = "You are signed out." if params.get("signed_out") else ""
        self.next_path = safe_next(str(params.get("next", "/")))
