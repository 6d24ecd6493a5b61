"""Database engines and transactions for the store.

The URL comes from Reflex's configuration (`db_url` in rxconfig.py, or `REFLEX_DB_URL`) unless a
caller passes one. SQLite runs in WAL mode with a busy timeout, so readers never block the event
writer and concurrent writers wait instead of failing; PostgreSQL runs on psycopg 3.
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event, make_url
from sqlmodel import Session

__all__ = [
    "SQLITE_BUSY_TIMEOUT_S",
    "UnsupportedDatabaseError",
    "create_db_engine",
    "database_url",
    "dispose_engines",
    "get_engine",
    "run_in_transaction",
    "safe_url",
    "session_scope",
]

T = TypeVar("T")

SQLITE_BUSY_TIMEOUT_S = 30.0

_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()


class UnsupportedDatabaseError(ValueError):
    """The URL names a database the store does not support (SQLite and PostgreSQL only)."""


def database_url(url: str | None = None) -> str:
    """Resolve the database URL the store uses.

    Args:
        url: An explicit URL (tests pass one); when None, Reflex's configured `db_url`.

    Returns:
        The URL, with `postgres://` and `postgresql://` given the psycopg 3 driver.

    Raises:
        UnsupportedDatabaseError: No URL is configured, or it is neither SQLite nor PostgreSQL.
    """
    if url is None:
        from reflex.config import get_config

        url = get_config().db_url
    if not url:
        raise UnsupportedDatabaseError(
            "no database URL: set db_url in rxconfig.py or REFLEX_DB_URL"
        )
    url = re.sub(r"^(postgres|postgresql)://", "postgresql+psycopg://", url)
    if not url.startswith(("sqlite", "postgresql+psycopg://")):
        raise UnsupportedDatabaseError(
            f"unsupported database URL {safe_url(url)!r}: use sqlite:///path or "
            "postgresql+psycopg://user:password@host/dbname"
        )
    return url


def safe_url(url: str) -> str:
    """The URL without its user name and password, for logs and error messages."""
    return re.sub(r"://[^@/]+@", "://***@", url)


def create_db_engine(
    url: str | None = None, *, foreign_keys: bool = True, echo: bool = False
) -> Engine:
    """Create a new engine (callers own it and dispose of it).

    Args:
        url: The database URL; None means Reflex's configured `db_url`.
        foreign_keys: Enforce foreign keys on SQLite (as PostgreSQL always does). Migrations turn
            this off, because SQLite's batch migrations copy tables.
        echo: Log every SQL statement.

    Returns:
        A SQLAlchemy engine.
    """
    resolved = database_url(url)
    if resolved.startswith("sqlite"):
        _make_sqlite_folder(resolved)
        engine = create_engine(
            resolved,
            echo=echo,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_S},
        )
        _configure_sqlite(engine, foreign_keys=foreign_keys)
        return engine
    return create_engine(resolved, echo=echo, pool_pre_ping=True)


def _make_sqlite_folder(url: str) -> None:
    database = make_url(url).database
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).parent.mkdir(parents=True, exist_ok=True)


def _configure_sqlite(engine: Engine, *, foreign_keys: bool) -> None:
    busy_ms = int(SQLITE_BUSY_TIMEOUT_S * 1000)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            # With WAL, NORMAL loses nothing committed when a process dies, only on power loss.
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
            cursor.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
        finally:
            cursor.close()


def get_engine(url: str | None = None) -> Engine:
    """The process-wide engine for `url` (default: Reflex's `db_url`), created on first use."""
    resolved = database_url(url)
    with _engines_lock:
        engine = _engines.get(resolved)
        if engine is None:
            engine = _engines[resolved] = create_db_engine(resolved)
        return engine


def dispose_engines() -> None:
    """Close every engine made by `get_engine` (at shutdown, or between tests)."""
    with _engines_lock:
        engines = list(_engines.values())
        _engines.clear()
    for engine in engines:
        engine.dispose()


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session whose transaction commits when the block ends and rolls back on an error.

    Objects stay readable after the commit (`expire_on_commit=False`).
    """
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


async def run_in_transaction(engine: Engine, fn: Callable[[Session], T]) -> T:
    """Run `fn(session)` in one transaction on a worker thread, so the event loop never blocks.

    Args:
        engine: The engine to use.
        fn: Store work taking the session, for example
            `lambda s: list_events(s, conversation_id=cid)`.

    Returns:
        What `fn` returned, after the transaction committed.
    """

    def work() -> T:
        with session_scope(engine) as session:
            return fn(session)

    return await asyncio.to_thread(work)
