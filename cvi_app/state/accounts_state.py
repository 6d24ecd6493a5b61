"""The accounts page (admins only): the team's accounts, and changing them.

Every handler checks on the server that the caller is a signed-in admin, records what it
changed in the audit log, and says what happened (or why not) in a toast.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import reflex as rx
from sqlmodel import Session

from cvi_app.access.caller import Caller
from cvi_app.accounts.audit import record_action
from cvi_app.accounts.models import ROLES, Account
from cvi_app.accounts.queries import (
    AccountError,
    create_account,
    list_accounts,
    set_active,
    set_password,
    set_role,
)
from cvi_app.accounts.sessions import forget_all
from cvi_app.presentation.errors import refusal_sentence
from cvi_app.state.app_state import AppState
from cvi_app.state.history_state import when
from cvi_app.store.db import get_engine, run_in_transaction

logger = logging.getLogger(__name__)

__all__ = ["AccountsState"]


def _row(account: Account) -> dict[str, str]:
    return {
        "id": str(account.id),
        "email": account.email,
        "role": account.role,
        "active": "yes" if account.active else "no",
        "created": when(account.created_at),
    }


class AccountsState(rx.State):
    """The team's accounts and the new-account form."""

    rows: list[dict[str, str]] = []
    allowed: bool = False
    new_email: str = ""
    new_password: str = ""
    new_role: str = "operator"
    reset_for: str = ""
    reset_password: str = ""

    @rx.event
    def set_new_email(self, value: str) -> None:
        """Type the new account's email."""
        self.new_email = value[:254]

    @rx.event
    def set_new_password(self, value: str) -> None:
        """Type the new account's first password."""
        self.new_password = value[:300]

    @rx.event
    def set_new_role(self, value: str) -> None:
        """Choose the new account's role."""
        self.new_role = value if value in ROLES else "operator"

    @rx.event
    def set_reset_password(self, value: str) -> None:
        """Type the new password of the account being reset."""
        self.reset_password = value[:300]

    @rx.event
    def choose_reset(self, account_id: str) -> None:
        """Open the password reset of one account (or close it, given "")."""
        self.reset_for, self.reset_password = account_id, ""

    async def _admin(self) -> Caller | None:
        caller = await (await self.get_state(AppState)).caller()
        return caller if caller.may("admin") else None

    @rx.event
    async def load(self):
        """Read the accounts (admins only)."""
        caller = await self._admin()
        self.allowed = caller is not None
        if caller is None:
            self.rows = []
            return
        accounts = await run_in_transaction(get_engine(), lambda s: list_accounts(s))
        self.rows = [_row(a) for a in accounts]

    async def _change(
        self, change: Callable[[Session], Any], *, action: str, detail: str, ok: str
    ) -> tuple[bool, Any]:
        """Run one change as an admin; whether it was saved, and the toast that says so."""
        caller = await self._admin()
        if caller is None:
            denied = await (await self.get_state(AppState)).caller()
            return False, rx.toast.error(refusal_sentence(denied, "admin"))
        try:
            await run_in_transaction(get_engine(), change)
        except AccountError as exc:
            return False, rx.toast.error(str(exc))
        except Exception:
            logger.exception("accounts: %s failed", action)
            return False, rx.toast.error("The change could not be saved. Try again.")
        forget_all()
        await record_action(caller, action, detail=detail)
        await self.load()
        return True, rx.toast.success(ok)

    @rx.event
    async def create(self, _form: dict[str, Any] | None = None):
        """Make an account with the form's email, password and role."""
        email, password, role = self.new_email, self.new_password, self.new_role
        saved, toast = await self._change(
            lambda s: create_account(s, email=email, password=password, role=role),  # type: ignore[arg-type]
            action="created account",
            detail=f"{email.strip().lower()} ({role})",
            ok=f"Made an account for {email.strip().lower()}.",
        )
        if saved:
            self.new_email = self.new_password = ""
        return toast

    @rx.event
    async def change_role(self, account_id: str, role: str):
        """Give an account another role."""
        email = self._email(account_id)
        _saved, toast = await self._change(
            lambda s: set_role(s, account_id=_account_id(account_id), role=role),  # type: ignore[arg-type]
            action="changed role",
            detail=f"{email} is now {role}",
            ok=f"{email} is now {role}.",
        )
        return toast

    @rx.event
    async def toggle_active(self, account_id: str):
        """Switch an account off (signed out everywhere) or back on."""
        email = self._email(account_id)
        active = next((r["active"] == "yes" for r in self.rows if r["id"] == account_id), True)
        _saved, toast = await self._change(
            lambda s: set_active(s, account_id=_account_id(account_id), active=not active),
            action="switched account off" if active else "switched account on",
            detail=email,
            ok=f"{email} is switched {'off' if active else 'on'}.",
        )
        return toast

    @rx.event
    async def save_reset(self, _form: dict[str, Any] | None = None):
        """Give the chosen account the typed password (it is signed out everywhere)."""
        account_id, password = self.reset_for, self.reset_password
        email = self._email(account_id)
        saved, toast = await self._change(
            lambda s: set_password(s, account_id=_account_id(account_id), password=password),
            action="reset password",
            detail=email,
            ok=f"The password of {email} was changed; it is signed out everywhere.",
        )
        if saved:
            self.reset_for, self.reset_password = "", ""
        return toast

    def _email(self, account_id: str) -> str:
        return next((r["email"] for r in self.rows if r["id"] == account_id), "the account")


def _account_id(value: str) -> int:
    if not value.isdigit() or len(value) > 12:
        raise AccountError("That account does not exist any more.")
    return int(value)
