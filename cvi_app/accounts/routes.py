"""The sign-in and sign-out routes: plain HTML form posts, answered with a redirect.

Signing in sets the HttpOnly sign-in cookie, which page script cannot read or set (so it cannot
go through a Reflex event). Both routes accept only posts from the app's own pages (their
`Origin`), bound the form's size before reading it, and answer every failure with a redirect
back to the sign-in page naming the problem in a word the page turns into a sentence.
Attempts are rate limited per email and per address (the `limits` library).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from urllib.parse import parse_qs, quote

from limits import parse_many
from limits.storage import MemoryStorage, Storage
from limits.strategies import MovingWindowRateLimiter
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from cvi_app.access.caller import Caller
from cvi_app.accounts.audit import record_action
from cvi_app.accounts.models import Account
from cvi_app.accounts.queries import authenticate
from cvi_app.accounts.sessions import as_signed_in, sign_in, sign_out
from cvi_app.accounts.sign_in_cookie import SignInCookies, token_hash
from cvi_app.store.db import get_engine, run_in_transaction

__all__ = ["SIGN_IN_PATH", "SIGN_OUT_PATH", "SignInLimiter", "safe_next", "sign_in_routes"]

logger = logging.getLogger(__name__)

SIGN_IN_PATH = "/auth/sign-in"
SIGN_OUT_PATH = "/auth/sign-out"
MAX_FORM_BYTES = 4096


class SignInLimiter:
    """Counts sign-in attempts per email and per address in moving windows.

    Args:
        per_account: Limits per email, e.g. "5/minute;30/hour".
        per_address: Limits per client address.
        storage: Where counts live (memory; Redis with several processes).
    """

    def __init__(self, *, per_account: str, per_address: str, storage: Storage | None = None):
        self._items = [("email", i) for i in parse_many(per_account)] + [
            ("address", i) for i in parse_many(per_address)
        ]
        self._limiter = MovingWindowRateLimiter(storage or MemoryStorage())

    def attempt(self, *, email: str, address: str) -> bool:
        """Count one attempt; False (nothing counted) when a limit is reached."""
        keys = {"email": email.strip().lower()[:254], "address": address}
        keyed = [(item, kind, keys[kind]) for kind, item in self._items if keys[kind]]
        if not all(self._limiter.test(item, "sign-in", kind, key) for item, kind, key in keyed):
            return False
        for item, kind, key in keyed:
            self._limiter.hit(item, "sign-in", kind, key)
        return True


def safe_next(value: str | None) -> str:
    """Where to go after signing in: a path of this app only (never another site)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    if value.startswith(("/sign-in", "/auth/")) or len(value) > 512:
        return "/"
    return value


def sign_in_routes(
    *,
    cookies: SignInCookies,
    origins: Callable[[], Sequence[str]],
    limiter: SignInLimiter,
) -> list[Route]:
    """The sign-in and sign-out routes.

    Args:
        cookies: Mints and reads sign-in cookies.
        origins: The origins the app's pages are served from (posts from others are refused).
        limiter: Counts sign-in attempts.
    """

    def back(origin: str, path: str) -> RedirectResponse:
        # To the page's own origin: in development the pages have a port of their own.
        return RedirectResponse(origin + path, status_code=303)

    async def handle_sign_in(request: Request) -> Response:
        origin = request.headers.get("origin", "")
        if origin not in origins():
            logger.warning("sign-in refused: a post from origin %r", origin[:100])
            return Response("Sign in from the studio's own page.", status_code=403)
        form = await _small_form(request)
        target = safe_next((form or {}).get("next"))
        retry = f"/sign-in?next={quote(target, safe='/')}&error="
        if form is None:
            return back(origin, retry + "invalid")
        email, password = form.get("email", ""), form.get("password", "")
        address = request.client.host if request.client else ""
        # In a thread: with several processes the counts are in Redis.
        if not await asyncio.to_thread(limiter.attempt, email=email, address=address):
            logger.warning("sign-in: too many attempts for %r from %s", email[:254], address)
            return back(origin, retry + "limited")
        account: Account | None = await run_in_transaction(
            get_engine(), lambda s: authenticate(s, email=email, password=password)
        )
        if account is None:
            logger.info("sign-in failed for %r from %s", email[:254], address)
            return back(origin, retry + "invalid")
        token = cookies.mint()
        await sign_in(account, token_hash(token))
        caller = Caller(browser="", accounts_on=True, signed_in=as_signed_in(account))
        await record_action(caller, "signed in", detail=f"from {address}")
        response = back(origin, target)
        response.headers.append("set-cookie", cookies.set_cookie_header(token))
        return response

    async def handle_sign_out(request: Request) -> Response:
        origin = request.headers.get("origin", "")
        if origin not in origins():
            return Response("Sign out from the studio's own page.", status_code=403)
        token = cookies.token_from_header(request.headers.get("cookie"))
        if token is not None:
            await sign_out(token_hash(token))
        response = back(origin, "/sign-in?signed_out=1")
        response.headers.append("set-cookie", cookies.clear_cookie_header())
        return response

    return [
        Route(SIGN_IN_PATH, handle_sign_in, methods=["POST"], name="sign_in"),
        Route(SIGN_OUT_PATH, handle_sign_out, methods=["POST"], name="sign_out"),
    ]


async def _small_form(request: Request) -> dict[str, str] | None:
    """The url-encoded form's fields (first value each), or None when it is too big or odd."""
    if "application/x-www-form-urlencoded" not in request.headers.get("content-type", ""):
        return None
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            return None
    try:
        fields = parse_qs(body.decode("utf-8"), max_num_fields=10)
    except (UnicodeDecodeError, ValueError):
        return None
    return {key: values[0] for key, values in fields.items() if values}
