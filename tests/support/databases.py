"""Real databases for the tests: a temporary SQLite file and a throwaway PostgreSQL.

Loaded for every test by `tests/conftest.py`; a folder that needs another `engine` (the live
tests' shared store) defines its own.

`db_url` is an empty database (for migration tests); `migrated_url` and `engine` are a database
at head, copied from one migrated per session so each test starts from a clean, current schema.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from cvi_app.store import create_db_engine
from cvi_app.store.migrate import upgrade_to_head
from tests.support.postgres import PostgresServer, postgres_server

__all__ = ["postgres_server"]

DATABASES = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(params=DATABASES)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """URL of an empty database (no tables): one per test, on each kind of database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    with server.database() as url:
        yield url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to head, copied by each test that needs a migrated database."""
    path = tmp_path_factory.mktemp("template") / "store.db"
    upgrade_to_head(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_template(postgres_server: PostgresServer) -> str:
    """A PostgreSQL database migrated to head, used as the template of each test's database."""
    name = "store_template"
    upgrade_to_head(postgres_server.create_database(name))
    return name


@pytest.fixture(params=DATABASES)
def migrated_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """URL of a database at head, one per test, on each kind of database."""
    if request.param == "sqlite":
        path = tmp_path / "store.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    with server.database(template=request.getfixturevalue("postgres_template")) as url:
        yield url


@pytest.fixture
def engine(migrated_url: str) -> Iterator[Engine]:
    """An engine on a database at head."""
    engine = create_db_engine(migrated_url)
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session on the migrated database; the test commits what it wants kept."""
    with Session(engine, expire_on_commit=False) as session:
        yield session
