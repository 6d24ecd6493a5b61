"""The owner cookie: a browser's proof that it started its conversations.

The server mints it (never page script), signs it with the app's secret key, and sends it
`HttpOnly` and `SameSite=Strict` (plus `Secure` and the `__Host-` name prefix over https, so no
other site, subdomain or path can plant one). The store keeps only the identity derived from it
(`owner_identity`), never the cookie itself. A value the server did not sign is ignored and
replaced, and so are two signed values at once, so a value fixed in a browser by someone else
gains nothing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from http.cookies import CookieError, SimpleCookie
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cvi_app.config import Settings

__all__ = [
    "COOKIE_NAME",
    "MAX_AGE",
    "OwnerCookies",
    "http_only_cookie",
    "owner_cookies",
    "owner_identity",
]

COOKIE_NAME = "cvi_owner"
MAX_AGE = 30 * 24 * 3600
# Cookie headers longer than this are not parsed (browsers send at most a few KB).
MAX_COOKIE_HEADER = 8192
_SIGNATURE_BYTES = 18


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class OwnerCookies:
    """Mints, reads and checks owner cookies for one deployment.

    Args:
        key: The secret key that signs them (the app's `CVI_SECRET_KEY`).
        secure: Whether browsers reach the app over https.
    """

    key: bytes
    secure: bool = False

    @property
    def name(self) -> str:
        """The cookie's name (`__Host-` prefixed over https)."""
        return f"__Host-{COOKIE_NAME}" if self.secure else COOKIE_NAME

    def mint(self, nonce: str | None = None) -> str:
        """A new signed owner token (`nonce`: its random part, made here unless given)."""
        nonce = nonce or secrets.token_urlsafe(24)
        return f"{nonce}.{self._sign(nonce)}"

    def is_valid(self, token: str) -> bool:
        """Whether this server signed `token`."""
        nonce, dot, signature = token.partition(".")
        if not dot or not nonce or len(token) > 128:
            return False
        return hmac.compare_digest(signature.encode(), self._sign(nonce).encode())

    def token_from_header(self, cookie_header: str | None) -> str | None:
        """The browser's valid owner token in a `Cookie` header, or None.

        Two different valid tokens mean one was planted (a cookie set for a narrower path or
        another subdomain is sent beside ours): neither is trusted, so the browser gets a new one.
        """
        if not cookie_header or len(cookie_header) > MAX_COOKIE_HEADER:
            return None
        found: set[str] = set()
        for part in cookie_header.split(";"):
            name, eq, value = part.strip().partition("=")
            value = value.strip().strip('"')
            if eq and name == self.name and self.is_valid(value):
                found.add(value)
        return found.pop() if len(found) == 1 else None

    def identity_from_header(self, cookie_header: str | None) -> str | None:
        """The owner identity a `Cookie` header proves, or None when it holds no valid token."""
        token = self.token_from_header(cookie_header)
        return owner_identity(token) if token is not None else None

    def set_cookie_header(self, token: str) -> str:
        """The `Set-Cookie` value that gives a browser `token`."""
        return http_only_cookie(self.name, token, max_age=MAX_AGE, secure=self.secure)

    def _sign(self, nonce: str) -> str:
        digest = hmac.new(self.key, f"cvi-owner:{nonce}".encode(), hashlib.sha256).digest()
        return _b64(digest[:_SIGNATURE_BYTES])


def http_only_cookie(name: str, value: str, *, max_age: int, secure: bool) -> str:
    """A `Set-Cookie` value only the server can read (`HttpOnly`, `SameSite=Strict`, path `/`).

    `Secure` is added over https; `max_age=0` removes the cookie.

    Raises:
        ValueError: `value` cannot be a cookie value (the app's tokens are URL-safe).
    """
    cookie: SimpleCookie = SimpleCookie()
    try:
        cookie[name] = value
    except CookieError as exc:  # pragma: no cover - minted tokens are URL-safe
        raise ValueError("not a valid cookie value") from exc
    morsel = cookie[name]
    morsel["path"] = "/"
    morsel["max-age"] = str(max_age)
    morsel["httponly"] = True
    morsel["samesite"] = "Strict"
    if secure:
        morsel["secure"] = True
    return morsel.OutputString()


def owner_identity(token: str) -> str:
    """What the store keeps for an owner token: its SHA-256, never the token itself."""
    return hashlib.sha256(token.encode()).hexdigest()


def owner_cookies(settings: Settings) -> OwnerCookies:
    """The owner cookies of the deployment `settings` describe."""
    return OwnerCookies(
        key=settings.secret_key.get_secret_value().encode(), secure=settings.secure_cookies
    )
