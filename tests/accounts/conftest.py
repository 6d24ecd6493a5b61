"""Accounts tests run on the real store (SQLite and PostgreSQL), with accounts switched on."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from reflex.config import reload_config
from sqlalchemy import Engine

from cvi_app.accounts import sessions
from cvi_app.accounts.models import Account, Role
from cvi_app.accounts.queries import create_account
from cvi_app.config import get_settings
from cvi_app.store.db import dispose_engines, session_scope

PASSWORD = "correct horse battery"


@pytest.fixture
def app_database(migrated_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The app's configured database (Reflex's `db_url`) is this test's, with accounts on."""
    monkeypatch.setenv("REFLEX_DB_URL", migrated_url)
    monkeypatch.setenv("CVI_ACCOUNTS", "1")
    reload_config()
    get_settings.cache_clear()
    sessions.forget_all()
    yield migrated_url
    dispose_engines()
    sessions.forget_all()
    monkeypatch.delenv("REFLEX_DB_URL")
    monkeypatch.delenv("CVI_ACCOUNTS")
    reload_config()
    get_settings.cache_clear()


def add_account(engine: Engine, email: str, role: Role = "operator") -> Account:
    """Store an account with the tests' password."""
    with session_scope(engine) as session:
        return create_account(session, email=email, password=PASSWORD, role=role)
