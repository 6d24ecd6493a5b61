"""`python -m cvi_app.accounts`: make the first admin, or reset a password, from a shell.

    python -m cvi_app.accounts create-admin --email ada@example.com
    python -m cvi_app.accounts reset-password --email ada@example.com

The password is asked for twice at the terminal, or read from standard input with
`--password-stdin` (for scripts), never from the command line (it would stay in the history).
"""

from __future__ import annotations

import argparse
import getpass
import sys

from sqlmodel import Session, col, select

from cvi_app.accounts.models import Account
from cvi_app.accounts.queries import (
    AccountError,
    add_audit,
    create_account,
    normalize_email,
    set_password,
)
from cvi_app.store.db import get_engine, session_scope


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Password again: ") != first:
        raise AccountError("The two passwords differ; nothing was changed.")
    return first


def _create_admin(session: Session, email: str, password: str) -> str:
    account = create_account(session, email=email, password=password, role="admin")
    add_audit(
        session, actor="command line", action="created account", detail=f"{account.email} (admin)"
    )
    return f"Created the admin {account.email}. Sign in at /sign-in."


def _reset_password(session: Session, email: str, password: str) -> str:
    address = normalize_email(email)
    account = session.exec(select(Account).where(col(Account.email) == address)).first()
    if account is None or account.id is None:
        raise AccountError(f"There is no account for {address}.")
    set_password(session, account_id=account.id, password=password)
    add_audit(session, actor="command line", action="reset password", detail=address)
    return f"The password of {address} was changed; it is signed out everywhere."


def main(argv: list[str] | None = None) -> int:
    """Run the command; print what happened, or why nothing did (exit status 1)."""
    parser = argparse.ArgumentParser(prog="python -m cvi_app.accounts", description=__doc__)
    parser.add_argument("command", choices=["create-admin", "reset-password"])
    parser.add_argument("--email", required=True)
    parser.add_argument("--password-stdin", action="store_true")
    args = parser.parse_args(argv)
    run = _create_admin if args.command == "create-admin" else _reset_password
    try:
        password = _password(args.password_stdin)
        with session_scope(get_engine()) as session:
            message = run(session, args.email, password)
    except AccountError as exc:
        sys.stderr.write(f"{exc}\n")
        return 1
    sys.stdout.write(f"{message}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
