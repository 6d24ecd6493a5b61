"""What every page shares: the mode the backend runs in, and who is asking."""

from urllib.parse import quote

import reflex as rx

from cvi_app.access.caller import Caller, Credentials
from cvi_app.access.page_rules import page_refusal
from cvi_app.access.web_guard import IDENTITY_COOKIE, SIGN_IN_COOKIE
from cvi_app.accounts.sessions import resolve_caller
from cvi_app.config import get_settings


class AppState(rx.State):
    """Backend facts every page shows (never secrets), and who this browser is.

    The owner identity comes from the HttpOnly owner cookie the server gave this browser, and
    the signed-in account from the HttpOnly sign-in cookie (`cvi_app.access`,
    `cvi_app.accounts`): page script can neither read nor set them. The server checks them on
    every action on a conversation (`caller`).
    """

    mode: str = ""
    accounts_on: bool = False
    signed_in_email: str = ""
    signed_in_role: str = ""

    @rx.event
    async def load_mode(self):
        """Read the mode and who is signed in; send away who may not open the page.

        Signed out: to sign in, then back here; without the role: to a page the role opens.
        """
        self.mode = get_settings().mode
        caller = await self.caller()
        self.accounts_on = caller.accounts_on
        self.signed_in_email = caller.signed_in.email if caller.signed_in else ""
        self.signed_in_role = caller.signed_in.role if caller.signed_in else ""
        target = page_refusal(self.router.route_id, caller)
        if target == "/sign-in":
            here = self.router.url.path.rstrip("/") or "/"
            return rx.redirect(f"/sign-in?next={quote(here, safe='/')}")
        if target is not None:
            return rx.redirect(target)
        return None

    def _proven(self, name: str, length: int) -> str:
        # The web guard replaced the websocket's `Cookie` header with what the browser's
        # cookies prove, so a value sent by the page cannot be taken for it.
        header = self.router.headers.cookie or ""
        for part in header.split(";"):
            key, eq, value = part.strip().partition("=")
            if eq and key == name and len(value) == length:
                return value
        return ""

    def ensure_owner(self) -> str:
        """The browser's owner identity ("" when the connection proved none: nothing is allowed)."""
        return self._proven(IDENTITY_COOKIE, 64)

    def credentials(self) -> Credentials:
        """What this connection proved (no lookup: cheap under the state lock).

        Pass it to `cvi_app.accounts.sessions.resolve_caller` or `owner_for` outside the lock.
        """
        return Credentials(
            browser=self.ensure_owner(), sign_in_hash=self._proven(SIGN_IN_COOKIE, 64)
        )

    async def caller(self) -> Caller:
        """Who is asking: this browser, and the account it is signed in to (if any)."""
        return await resolve_caller(self.credentials())
