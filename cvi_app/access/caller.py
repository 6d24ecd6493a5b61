"""Who is asking, and what they may do: the one place that knows the access rules.

Without accounts (sandbox mode's default) a conversation belongs to the browser that started it
(its owner identity, from the owner cookie). With accounts, conversations belong to the team
(`TEAM_OWNER` is stored as their owner) and what a signed-in person may do follows their role:

| permission | admin | operator | viewer | no accounts (the browser) |
|---|---|---|---|---|
| read: history, analytics, insights, exports | yes | yes | yes | its own conversations |
| drive: start, watch, steer, end | yes | yes | no | its own conversations |
| admin: accounts, audit log | yes | no | no | no (there are no accounts) |
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from cvi_app.accounts.models import Role

__all__ = ["TEAM_OWNER", "Caller", "Credentials", "Permission", "SignedIn"]

Permission = Literal["read", "drive", "admin"]

TEAM_OWNER = "team"
"""The owner recorded for conversations started with accounts on (never a browser identity:
those are 64 hex digits)."""

_ROLE_MAY: dict[str, frozenset[Permission]] = {
    "admin": frozenset({"read", "drive", "admin"}),
    "operator": frozenset({"read", "drive"}),
    "viewer": frozenset({"read"}),
}


@dataclass(frozen=True)
class Credentials:
    """What a connection proved, before it is looked up (cheap to take under a state lock).

    Args:
        browser: The browser's owner identity ("" when it proved none).
        sign_in_hash: The hash of its sign-in token ("" when it has none).
    """

    browser: str
    sign_in_hash: str = ""


@dataclass(frozen=True)
class SignedIn:
    """The account a browser is signed in to."""

    account_id: int
    email: str
    role: Role


@dataclass(frozen=True)
class Caller:
    """One browser asking, as the server established it.

    Args:
        browser: The browser's owner identity ("" when it proved none).
        accounts_on: Whether this deployment signs people in.
        signed_in: The account it is signed in to, if any.
    """

    browser: str
    accounts_on: bool
    signed_in: SignedIn | None = None

    def may(self, permission: Permission) -> bool:
        """Whether this caller may do what `permission` covers."""
        if not self.accounts_on:
            return permission != "admin" and bool(self.browser)
        return self.signed_in is not None and permission in _ROLE_MAY[self.signed_in.role]

    def owner_for(self, permission: Permission) -> str:
        """The owner whose conversations this caller may use for `permission` ("" for none).

        Pass it where the store and the sessions compare owners (`is_owner`).
        """
        if not self.may(permission):
            return ""
        return TEAM_OWNER if self.accounts_on else self.browser

    @property
    def actor(self) -> str:
        """Who this is, for the audit log and the event log."""
        return self.signed_in.email if self.signed_in else "this browser"

    @property
    def needs_sign_in(self) -> bool:
        """Whether the caller must sign in before anything else."""
        return self.accounts_on and self.signed_in is None
