"""Migrations bring an empty database to the current schema and back, on SQLite and PostgreSQL."""

from __future__ import annotations

import subprocess
import sys

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import SQLModel

from cvi_app.store import create_db_engine
from cvi_app.store.migrate import (
    ROOT,
    current_revision,
    downgrade_to_base,
    head_revision,
    upgrade_to_head,
)

STORE_TABLES = {
    "conversation",
    "conversation_event",
    "tool_call",
    "webhook_delivery",
    "transcript_line",
}


def _tables(url: str) -> set[str]:
    engine = create_db_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_creates_the_store_and_downgrade_removes_it(db_url: str) -> None:
    assert not _tables(db_url) & STORE_TABLES

    upgrade_to_head(db_url)
    assert STORE_TABLES <= _tables(db_url)
    assert current_revision(db_url) == head_revision()

    downgrade_to_base(db_url)
    assert not _tables(db_url) & STORE_TABLES
    assert current_revision(db_url) is None

    upgrade_to_head(db_url)
    assert STORE_TABLES <= _tables(db_url)


def test_upgrading_twice_changes_nothing(db_url: str) -> None:
    upgrade_to_head(db_url)
    upgrade_to_head(db_url)
    assert current_revision(db_url) == head_revision()


def test_migrated_schema_matches_the_models(db_url: str) -> None:
    upgrade_to_head(db_url)
    engine = create_db_engine(db_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": False})
            diffs = compare_metadata(context, SQLModel.metadata)
    finally:
        engine.dispose()

    def touches_store(diff: object) -> bool:
        # Other parts of the app may define tables of their own: only ours are checked here.
        return any(name in repr(diff) for name in STORE_TABLES)

    assert [d for d in diffs if touches_store(d)] == []


def test_migrate_command_upgrades_the_database_it_is_given(db_url: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "cvi_app.store.migrate", "--url", db_url],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert STORE_TABLES <= _tables(db_url)
