"""What every page shares: the mode the backend runs in, and who this browser is."""

import secrets

import reflex as rx

from cvi_app.config import get_settings

OWNER_COOKIE = "cvi_owner"
OWNER_MAX_AGE = 30 * 24 * 3600

# Runs in the page's <head>, before the app connects: every tab of a new browser then starts
# with the same owner token (minted on the server, tabs loading at once would each make one).
MINT_OWNER_SCRIPT = (
    f"if (!document.cookie.split('; ').some(c => c.startsWith('{OWNER_COOKIE}='))) "
    f"document.cookie = '{OWNER_COOKIE}=' + crypto.randomUUID().replaceAll('-', '') + "
    f"'; path=/; max-age={OWNER_MAX_AGE}; samesite=strict';"
)


class AppState(rx.State):
    """Backend facts every page shows (never secrets), and the browser's owner token.

    The owner token is a random cookie: every tab of one browser shares it, another browser
    never has it. The server checks it on every action on a conversation.
    """

    mode: str = ""
    owner: str = rx.Cookie("", name=OWNER_COOKIE, same_site="strict", max_age=OWNER_MAX_AGE)

    @rx.event
    def load_mode(self) -> None:
        """Read the mode (sandbox or tavus) and make sure this browser has an owner token."""
        self.mode = get_settings().mode
        self.ensure_owner()

    def ensure_owner(self) -> str:
        """Return the browser's owner token, made on first use."""
        if not self.owner:
            self.owner = secrets.token_urlsafe(24)
        return self.owner
