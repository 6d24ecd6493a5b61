"""The sign-in cookie: a random token the server gives a browser when it signs in.

Sent `HttpOnly` and `SameSite=Strict` (plus `Secure` and the `__Host-` prefix over https), like
the owner cookie. The store keeps only the token's SHA-256 (`token_hash`), so the database
cannot sign anybody in; the token itself is never in Reflex state or logs (the web guard passes
the Reflex websocket the hash, not the cookie).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from cvi_app.access.owner_cookie import http_only_cookie

__all__ = ["SIGN_IN_LIFETIME", "SignInCookies", "token_hash"]

COOKIE_NAME = "cvi_signin"
SIGN_IN_LIFETIME = timedelta(days=7)
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")
_MAX_COOKIE_HEADER = 8192


def token_hash(token: str) -> str:
    """What the store keeps for a sign-in token."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class SignInCookies:
    """Mints and reads sign-in cookies.

    Args:
        secure: Whether browsers reach the app over https.
    """

    secure: bool = False

    @property
    def name(self) -> str:
        """The cookie's name (`__Host-` prefixed over https)."""
        return f"__Host-{COOKIE_NAME}" if self.secure else COOKIE_NAME

    @staticmethod
    def mint() -> str:
        """A new random token (256 bits)."""
        return secrets.token_urlsafe(32)

    def token_from_header(self, cookie_header: str | None) -> str | None:
        """The one well-formed sign-in token in a `Cookie` header, or None (none, or two)."""
        if not cookie_header or len(cookie_header) > _MAX_COOKIE_HEADER:
            return None
        found = set()
        for part in cookie_header.split(";"):
            name, eq, value = part.strip().partition("=")
            if eq and name == self.name and _TOKEN.match(value.strip()):
                found.add(value.strip())
        return found.pop() if len(found) == 1 else None

    def set_cookie_header(self, token: str) -> str:
        """The `Set-Cookie` value that signs a browser in with `token`."""
        lifetime = int(SIGN_IN_LIFETIME.total_seconds())
        return http_only_cookie(self.name, token, max_age=lifetime, secure=self.secure)

    def clear_cookie_header(self) -> str:
        """The `Set-Cookie` value that removes the cookie (signing out)."""
        return http_only_cookie(self.name, "", max_age=0, secure=self.secure)
