"""`python -m cvi_app.accounts`: the first admin and password resets, from a shell."""

from __future__ import annotations

import os
import subprocess
import sys

from sqlalchemy import Engine

from cvi_app.accounts.queries import authenticate, list_audit
from cvi_app.store.db import session_scope
from tests.accounts.conftest import PASSWORD, add_account
from tests.support.app_server import ROOT


def _run(db_url: str, *args: str, password: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cvi_app.accounts", *args, "--password-stdin"],
        input=password + "\n",
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "REFLEX_DB_URL": db_url},
        timeout=120,
        check=False,
    )


def test_create_admin_makes_an_admin_who_can_sign_in(migrated_url: str, engine: Engine) -> None:
    done = _run(migrated_url, "create-admin", "--email", "Ada@Example.com", password=PASSWORD)
    assert done.returncode == 0, done.stderr
    assert "Created the admin ada@example.com" in done.stdout
    with session_scope(engine) as session:
        account = authenticate(session, email="ada@example.com", password=PASSWORD)
        assert account is not None and account.role == "admin"
        assert [e.action for e in list_audit(session)] == ["created account"]


def test_a_short_password_or_a_taken_email_is_refused_in_plain_words(
    migrated_url: str, engine: Engine
) -> None:
    done = _run(migrated_url, "create-admin", "--email", "ada@example.com", password="short")
    assert done.returncode == 1
    assert done.stderr.strip() == "The password must be at least 10 characters long."
    add_account(engine, "ada@example.com")
    done = _run(migrated_url, "create-admin", "--email", "ada@example.com", password=PASSWORD)
    assert done.returncode == 1 and "already an account" in done.stderr


def test_reset_password_changes_it(migrated_url: str, engine: Engine) -> None:
    add_account(engine, "ada@example.com")
    done = _run(
        migrated_url, "reset-password", "--email", "ada@example.com", password="another passphrase"
    )
    assert done.returncode == 0, done.stderr
    with session_scope(engine) as session:
        assert authenticate(session, email="ada@example.com", password="another passphrase")
        assert authenticate(session, email="ada@example.com", password=PASSWORD) is None
    done = _run(migrated_url, "reset-password", "--email", "bob@example.com", password=PASSWORD)
    assert done.returncode == 1 and "There is no account for bob@example.com." in done.stderr
