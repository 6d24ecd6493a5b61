"""Reading and changing accounts, sign-in sessions and the audit log.

Keyword-only functions that take the caller's `Session` (the caller owns the transaction), as in
`cvi_app.store`. Refusals raise `AccountError` with a sentence meant for the person who asked.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from cvi_app.accounts.models import ROLES, Account, AuditEntry, Role, SignInSession
from cvi_app.accounts.passwords import check_new_password, hash_password, verify_password
from cvi_app.store.types import utc_now

__all__ = [
    "AccountError",
    "add_audit",
    "authenticate",
    "close_sign_in",
    "create_account",
    "get_account",
    "list_accounts",
    "list_audit",
    "normalize_email",
    "open_sign_in",
    "set_active",
    "set_password",
    "set_role",
    "signed_in_account",
]

_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,189}\.[^@\s.]{1,63}$")
MAX_AUDIT_DETAIL = 500


class AccountError(ValueError):
    """A change to accounts the app refuses; the message says why, in plain words."""


def normalize_email(email: str) -> str:
    """The email as accounts store it (trimmed, lower case), or `AccountError` if it is not one."""
    value = email.strip().lower()
    if not _EMAIL.match(value):
        raise AccountError("Enter an email address like name@example.com.")
    return value


def create_account(session: Session, *, email: str, password: str, role: Role) -> Account:
    """Add an account.

    Raises:
        AccountError: The email is not one or is taken, the password is too short or too long,
            or the role is unknown.
    """
    address = normalize_email(email)
    if role not in ROLES:
        raise AccountError("The role must be admin, operator or viewer.")
    problem = check_new_password(password)
    if problem:
        raise AccountError(problem)
    if _by_email(session, address) is not None:
        raise AccountError(f"There is already an account for {address}.")
    account = Account(email=address, password_hash=hash_password(password), role=role)
    session.add(account)
    session.flush()
    return account


def get_account(session: Session, *, account_id: int) -> Account | None:
    """The account with this id, or None."""
    return session.get(Account, account_id)


def list_accounts(session: Session, *, limit: int = 500) -> list[Account]:
    """Accounts by email (at most `limit`)."""
    return list(session.exec(select(Account).order_by(col(Account.email)).limit(limit)))


def set_role(session: Session, *, account_id: int, role: Role) -> Account:
    """Give an account another role (never leaving the team without an active admin)."""
    if role not in ROLES:
        raise AccountError("The role must be admin, operator or viewer.")
    account = _existing(session, account_id)
    if account.role == "admin" and role != "admin":
        _keep_an_admin(session, account)
    account.role = role
    session.add(account)
    return account


def set_active(session: Session, *, account_id: int, active: bool) -> Account:
    """Switch an account on or off; switched off, it is signed out everywhere."""
    account = _existing(session, account_id)
    if not active and account.role == "admin":
        _keep_an_admin(session, account)
    account.active = active
    session.add(account)
    if not active:
        _sign_out_everywhere(session, account_id)
    return account


def set_password(session: Session, *, account_id: int, password: str) -> Account:
    """Give an account a new password and sign it out everywhere."""
    problem = check_new_password(password)
    if problem:
        raise AccountError(problem)
    account = _existing(session, account_id)
    account.password_hash = hash_password(password)
    account.password_changed_at = utc_now()
    session.add(account)
    _sign_out_everywhere(session, account_id)
    return account


def authenticate(session: Session, *, email: str, password: str) -> Account | None:
    """The active account this email and password sign in, or None.

    Which part was wrong is not said: an unknown email and a wrong password look the same.
    """
    try:
        address = normalize_email(email)
    except AccountError:
        address = ""
    account = _by_email(session, address) if address else None
    known = account is not None and account.active
    if not verify_password(password, account.password_hash if known and account else None):
        return None
    return account


def open_sign_in(
    session: Session, *, account_id: int, token_hash: str, lifetime: timedelta
) -> SignInSession:
    """Record a browser signed in to an account for `lifetime`."""
    now = utc_now()
    # Expired sessions of this account go as new ones come.
    session.execute(
        delete(SignInSession).where(
            col(SignInSession.account_id) == account_id, col(SignInSession.expires_at) < now
        )
    )
    row = SignInSession(token_hash=token_hash, account_id=account_id, expires_at=now + lifetime)
    session.add(row)
    session.flush()
    return row


def signed_in_account(
    session: Session, *, token_hash: str, now: datetime | None = None
) -> Account | None:
    """The active account a sign-in session belongs to, while it has not expired."""
    row = session.get(SignInSession, token_hash)
    if row is None or row.expires_at <= (now or utc_now()):
        return None
    account = session.get(Account, row.account_id)
    return account if account is not None and account.active else None


def close_sign_in(session: Session, *, token_hash: str) -> None:
    """Sign a browser out (nothing happens if it was not signed in)."""
    session.execute(delete(SignInSession).where(col(SignInSession.token_hash) == token_hash))


def add_audit(
    session: Session,
    *,
    actor: str,
    action: str,
    conversation_id: str | None = None,
    detail: str = "",
) -> AuditEntry:
    """Record one action in the audit log (`detail` is cut to a few hundred characters)."""
    if len(detail) > MAX_AUDIT_DETAIL:
        detail = detail[: MAX_AUDIT_DETAIL - 1] + "…"
    entry = AuditEntry(
        actor=actor[:254], action=action[:64], conversation_id=conversation_id, detail=detail
    )
    session.add(entry)
    session.flush()
    return entry


def list_audit(
    session: Session,
    *,
    before_id: int | None = None,
    conversation_id: str | None = None,
    limit: int = 100,
) -> list[AuditEntry]:
    """Audit entries, newest first, one page at a time (`before_id`: the last one already seen)."""
    if not 1 <= limit <= 1000:
        raise ValueError(f"limit must be 1..1000, got {limit}")
    query = select(AuditEntry)
    if before_id is not None:
        query = query.where(col(AuditEntry.id) < before_id)
    if conversation_id is not None:
        query = query.where(col(AuditEntry.conversation_id) == conversation_id)
    return list(session.exec(query.order_by(col(AuditEntry.id).desc()).limit(limit)))


def _by_email(session: Session, address: str) -> Account | None:
    return session.exec(select(Account).where(col(Account.email) == address)).first()


def _existing(session: Session, account_id: int) -> Account:
    account = session.get(Account, account_id)
    if account is None:
        raise AccountError("That account does not exist any more.")
    return account


def _keep_an_admin(session: Session, leaving: Account) -> None:
    others = session.exec(
        select(func.count())
        .select_from(Account)
        .where(
            col(Account.role) == "admin",
            col(Account.active).is_(True),
            col(Account.id) != leaving.id,
        )
    ).one()
    if not others:
        raise AccountError("The team needs at least one active admin; make another admin first.")


def _sign_out_everywhere(session: Session, account_id: int) -> None:
    session.execute(delete(SignInSession).where(col(SignInSession.account_id) == account_id))
