"""What every page shares: the mode the backend runs in, and who this browser is."""

import reflex as rx

from cvi_app.access.web_guard import IDENTITY_COOKIE
from cvi_app.config import get_settings


class AppState(rx.State):
    """Backend facts every page shows (never secrets), and the browser's owner identity.

    The owner identity comes from the HttpOnly owner cookie the server gave this browser
    (`cvi_app.access`): every tab of one browser shares it, another browser never has it, and
    page script can neither read nor set it. The server checks it on every action on a
    conversation.
    """

    mode: str = ""

    @rx.event
    def load_mode(self) -> None:
        """Read the mode (sandbox or tavus)."""
        self.mode = get_settings().mode

    def ensure_owner(self) -> str:
        """The browser's owner identity ("" when the connection proved none: nothing is allowed).

        The web guard replaced the websocket's `Cookie` header with the identity the browser's
        signed owner cookie proves, so a value sent by the page cannot be taken for it.
        """
        header = self.router.headers.cookie or ""
        for part in header.split(";"):
            name, eq, value = part.strip().partition("=")
            if eq and name == IDENTITY_COOKIE and len(value) == 64:
                return value
        return ""
