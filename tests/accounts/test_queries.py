"""Accounts, sign-in sessions and the audit log on the real store (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from cvi_app.accounts.queries import (
    AccountError,
    add_audit,
    authenticate,
    close_sign_in,
    create_account,
    list_accounts,
    list_audit,
    open_sign_in,
    set_active,
    set_password,
    set_role,
    signed_in_account,
)
from cvi_app.store.db import session_scope
from cvi_app.store.types import utc_now
from tests.accounts.conftest import PASSWORD, add_account


def test_emails_are_kept_in_lower_case_and_signed_in_with_any_case(session: Session) -> None:
    account = create_account(session, email="  Ada@Example.COM ", password=PASSWORD, role="admin")
    assert account.email == "ada@example.com"
    assert authenticate(session, email="ADA@example.com", password=PASSWORD) == account


@pytest.mark.parametrize(
    ("email", "password", "role", "problem"),
    [
        ("not an email", PASSWORD, "operator", "Enter an email address like name@example.com."),
        ("b@example.com", "short", "operator", "at least 10 characters"),
        ("b@example.com", PASSWORD, "owner", "The role must be admin, operator or viewer."),
    ],
)
def test_a_bad_new_account_is_refused_in_plain_words(
    session: Session, email: str, password: str, role: str, problem: str
) -> None:
    with pytest.raises(AccountError, match=problem):
        create_account(session, email=email, password=password, role=role)  # type: ignore[arg-type]
    assert list_accounts(session) == []


def test_an_email_has_one_account(engine: Engine) -> None:
    add_account(engine, "ada@example.com")
    with session_scope(engine) as session, pytest.raises(AccountError, match="already an account"):
        create_account(session, email="ADA@example.com", password=PASSWORD, role="viewer")


def test_a_wrong_password_an_unknown_email_and_a_switched_off_account_all_fail(
    engine: Engine,
) -> None:
    admin = add_account(engine, "admin@example.com", "admin")
    ada = add_account(engine, "ada@example.com")
    with session_scope(engine) as session:
        assert authenticate(session, email="ada@example.com", password=PASSWORD + "x") is None
        assert authenticate(session, email="nobody@example.com", password=PASSWORD) is None
        assert authenticate(session, email="", password="") is None
        assert admin.id is not None and ada.id is not None
        set_active(session, account_id=ada.id, active=False)
    with session_scope(engine) as session:
        assert authenticate(session, email="ada@example.com", password=PASSWORD) is None


def test_a_sign_in_lasts_until_it_expires_or_is_closed(engine: Engine) -> None:
    ada = add_account(engine, "ada@example.com")
    assert ada.id is not None
    with session_scope(engine) as session:
        open_sign_in(session, account_id=ada.id, token_hash="a" * 64, lifetime=timedelta(hours=1))
    with session_scope(engine) as session:
        found = signed_in_account(session, token_hash="a" * 64)
        assert found is not None and found.email == "ada@example.com"
        later = utc_now() + timedelta(hours=2)
        assert signed_in_account(session, token_hash="a" * 64, now=later) is None
        assert signed_in_account(session, token_hash="b" * 64) is None
        close_sign_in(session, token_hash="a" * 64)
    with session_scope(engine) as session:
        assert signed_in_account(session, token_hash="a" * 64) is None


def test_a_password_reset_and_switching_off_sign_the_account_out_everywhere(
    engine: Engine,
) -> None:
    add_account(engine, "admin@example.com", "admin")
    ada = add_account(engine, "ada@example.com")
    assert ada.id is not None
    with session_scope(engine) as session:
        for token in ("a", "b"):
            open_sign_in(
                session, account_id=ada.id, token_hash=token * 64, lifetime=timedelta(hours=1)
            )
    with session_scope(engine) as session:
        set_password(session, account_id=ada.id, password="a new long passphrase")
    with session_scope(engine) as session:
        assert signed_in_account(session, token_hash="a" * 64) is None
        assert signed_in_account(session, token_hash="b" * 64) is None
        assert authenticate(session, email="ada@example.com", password=PASSWORD) is None
        assert authenticate(session, email="ada@example.com", password="a new long passphrase")
        open_sign_in(session, account_id=ada.id, token_hash="c" * 64, lifetime=timedelta(hours=1))
    with session_scope(engine) as session:
        set_active(session, account_id=ada.id, active=False)
    with session_scope(engine) as session:
        assert signed_in_account(session, token_hash="c" * 64) is None


def test_the_team_always_keeps_an_active_admin(engine: Engine) -> None:
    admin = add_account(engine, "admin@example.com", "admin")
    assert admin.id is not None
    with session_scope(engine) as session, pytest.raises(AccountError, match="one active admin"):
        set_role(session, account_id=admin.id, role="operator")
    with session_scope(engine) as session, pytest.raises(AccountError, match="one active admin"):
        set_active(session, account_id=admin.id, active=False)
    other = add_account(engine, "second@example.com", "admin")
    with session_scope(engine) as session:
        assert set_role(session, account_id=admin.id, role="viewer").role == "viewer"
    assert other.id is not None
    with session_scope(engine) as session, pytest.raises(AccountError, match="one active admin"):
        set_active(session, account_id=other.id, active=False)


def test_a_missing_account_cannot_be_changed(session: Session) -> None:
    with pytest.raises(AccountError, match="does not exist"):
        set_role(session, account_id=12345, role="viewer")


def test_the_audit_log_pages_newest_first_and_filters_by_conversation(engine: Engine) -> None:
    with session_scope(engine) as session:
        for n in range(5):
            add_audit(session, actor="ada@example.com", action=f"echo {n}", conversation_id="c1")
        add_audit(session, actor="ada@example.com", action="exported json", conversation_id="c2")
        add_audit(session, actor="ada@example.com", action="long", detail="x" * 2000)
    with session_scope(engine) as session:
        first = list_audit(session, limit=3)
        assert [e.action for e in first] == ["long", "exported json", "echo 4"]
        assert len(first[0].detail) == 500 and first[0].detail.endswith("…")
        rest = list_audit(session, before_id=first[-1].id, limit=10)
        assert [e.action for e in rest] == ["echo 3", "echo 2", "echo 1", "echo 0"]
        assert [e.action for e in list_audit(session, conversation_id="c2")] == ["exported json"]
