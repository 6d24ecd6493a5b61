"""Engines: which database the store uses, and how SQLite is set up for concurrent use."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import StatementError

from cvi_app.store import (
    Conversation,
    UnsupportedDatabaseError,
    create_db_engine,
    database_url,
    get_conversation,
    run_in_transaction,
    session_scope,
)
from tests.store.helpers import add_conversation


def test_default_url_is_reflex_db_url() -> None:
    from reflex.config import get_config

    assert database_url() == get_config().db_url


@pytest.mark.parametrize("scheme", ["postgres", "postgresql"])
def test_postgres_urls_use_psycopg_3(scheme: str) -> None:
    assert database_url(f"{scheme}://u:p@db/app") == "postgresql+psycopg://u:p@db/app"


def test_other_databases_are_refused_with_a_clear_error() -> None:
    with pytest.raises(UnsupportedDatabaseError, match="mysql"):
        database_url("mysql://u:p@db/app")


def test_sqlite_runs_in_wal_mode_with_busy_timeout_and_foreign_keys(tmp_path: Path) -> None:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        with engine.connect() as connection:
            assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert connection.execute(text("PRAGMA busy_timeout")).scalar() == 30_000
            assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
    finally:
        engine.dispose()


def test_timestamps_come_back_in_utc_and_timezone_aware(engine: Engine) -> None:
    created = datetime(2026, 5, 1, 12, 30, tzinfo=timezone(timedelta(hours=2)))
    add_conversation(engine, "c-time")
    with session_scope(engine) as session:
        row = session.get(Conversation, "c-time")
        assert row is not None
        row.created_at = created
    with session_scope(engine) as session:
        stored = get_conversation(session, conversation_id="c-time")
    assert stored is not None
    assert stored.created_at == created
    assert stored.created_at.tzinfo == UTC


def test_naive_timestamps_are_refused(engine: Engine) -> None:
    add_conversation(engine, "c-naive")
    with pytest.raises(StatementError, match="naive datetime"), session_scope(engine) as session:
        row = session.get(Conversation, "c-naive")
        assert row is not None
        row.ended_at = datetime(2026, 5, 1, 12, 30)


async def test_run_in_transaction_commits_work_done_off_the_event_loop(engine: Engine) -> None:
    add_conversation(engine, "c-async", name="first")

    def rename(session):  # type: ignore[no-untyped-def]
        row = session.get(Conversation, "c-async")
        row.name = "renamed"
        return row.name

    assert await run_in_transaction(engine, rename) == "renamed"
    with session_scope(engine) as session:
        stored = get_conversation(session, conversation_id="c-async")
    assert stored is not None and stored.name == "renamed"
