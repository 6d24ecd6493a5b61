"""Signing browsers in and out, and finding the account behind a sign-in.

`signed_in` is asked on every action with accounts on; its answers are kept for a few seconds
in this process, so a busy tab costs no query per event. A sign-out, a password reset or a
switched-off account therefore takes effect everywhere within `CACHE_SECONDS` (at once in the
process where it happened).
"""

from __future__ import annotations

import time

from cachetools import TTLCache
from sqlmodel import Session

from cvi_app.access.caller import Caller, Credentials, Permission, SignedIn
from cvi_app.access.owner_cookie import OwnerCookies
from cvi_app.accounts.models import Account
from cvi_app.accounts.queries import close_sign_in, open_sign_in, signed_in_account
from cvi_app.accounts.sign_in_cookie import SIGN_IN_LIFETIME, SignInCookies, token_hash
from cvi_app.config import get_settings
from cvi_app.store.db import get_engine, run_in_transaction

__all__ = [
    "CACHE_SECONDS",
    "as_signed_in",
    "caller_from_header",
    "forget_all",
    "owner_for",
    "resolve_caller",
    "sign_in",
    "sign_out",
    "signed_in",
]

CACHE_SECONDS = 5.0
_cache: TTLCache[str, SignedIn | None] = TTLCache(
    maxsize=10_000, ttl=CACHE_SECONDS, timer=time.monotonic
)


def as_signed_in(account: Account) -> SignedIn:
    """What the rest of the app knows of a signed-in account."""
    assert account.id is not None
    return SignedIn(account_id=account.id, email=account.email, role=account.role)  # type: ignore[arg-type]


async def signed_in(token_hash: str) -> SignedIn | None:
    """The account behind a sign-in token's hash, or None (unknown, expired or switched off)."""
    if not token_hash:
        return None
    if token_hash in _cache:
        return _cache[token_hash]

    def look(session: Session) -> SignedIn | None:
        account = signed_in_account(session, token_hash=token_hash)
        return as_signed_in(account) if account is not None else None

    found = await run_in_transaction(get_engine(), look)
    _cache[token_hash] = found
    return found


async def resolve_caller(credentials: Credentials) -> Caller:
    """The caller a connection's credentials make (see `AppState.credentials`)."""
    accounts_on = get_settings().accounts_on
    hashed = credentials.sign_in_hash
    account = await signed_in(hashed) if accounts_on and hashed else None
    return Caller(browser=credentials.browser, accounts_on=accounts_on, signed_in=account)


async def caller_from_header(
    cookie_header: str | None, *, owners: OwnerCookies, sign_ins: SignInCookies
) -> Caller:
    """The caller an HTTP request's `Cookie` header proves (for routes beside Reflex)."""
    browser = owners.identity_from_header(cookie_header) or ""
    token = sign_ins.token_from_header(cookie_header)
    return await resolve_caller(
        Credentials(browser=browser, sign_in_hash=token_hash(token) if token else "")
    )


async def owner_for(credentials: Credentials, permission: Permission) -> str:
    """The owner whose conversations these credentials may use for `permission` ("": none)."""
    return (await resolve_caller(credentials)).owner_for(permission)


async def sign_in(account: Account, token_hash: str) -> None:
    """Record a browser signed in to `account`."""
    assert account.id is not None
    account_id = account.id
    await run_in_transaction(
        get_engine(),
        lambda s: open_sign_in(
            s, account_id=account_id, token_hash=token_hash, lifetime=SIGN_IN_LIFETIME
        ),
    )
    _cache.pop(token_hash, None)


async def sign_out(token_hash: str) -> None:
    """Sign a browser out."""
    await run_in_transaction(get_engine(), lambda s: close_sign_in(s, token_hash=token_hash))
    _cache[token_hash] = None


def forget_all() -> None:
    """Drop every cached answer (after an account changes here)."""
    _cache.clear()
