"""The database check: it answers and is at the latest migration."""

from __future__ import annotations

import re
from pathlib import Path

from cvi_app.doctor.masking import _mask_url, mask_secrets
from cvi_app.doctor.result import DEFAULT_TIMEOUT, CheckResult, _result


def check_database(db_url: str | None = None, *, timeout: float = DEFAULT_TIMEOUT) -> CheckResult:
    """Whether the database answers and is at the latest migration (alembic head).

    Args:
        db_url: The database (default: Reflex's `db_url`, i.e. `REFLEX_DB_URL` or rxconfig.py).
        timeout: Seconds to wait for the connection.
    """
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import create_engine, make_url
    from sqlalchemy.exc import SQLAlchemyError

    from cvi_app.store.db import UnsupportedDatabaseError, database_url
    from cvi_app.store.migrate import head_revision

    try:
        url = database_url(db_url)
    except UnsupportedDatabaseError as exc:
        return _result(
            "database",
            "fail",
            f"Database: {mask_secrets(str(exc))}",
            "set REFLEX_DB_URL to sqlite:///.data/cvi_studio.db or "
            "postgresql+psycopg://user:password@host/dbname",
        )
    except Exception as exc:  # rxconfig.py could not be read: say so, not a traceback
        return _result(
            "database",
            "fail",
            f"Database: Reflex's configuration could not be read ({type(exc).__name__}: "
            f"{mask_secrets(str(exc))})",
            "run the doctor from the project folder (make doctor)",
        )
    shown = _mask_url(url)
    head = head_revision()
    sqlite = url.startswith("sqlite")
    connect_args: dict[str, object]
    if sqlite:
        path = make_url(url).database
        if path and path != ":memory:" and not path.startswith("file:") and not Path(path).exists():
            return _result(
                "database",
                "fail",
                f"Database {shown} does not exist yet (no migration applied)",
                "make migrate",
            )
        connect_args = {"timeout": timeout}
    else:
        connect_args = {"connect_timeout": max(1, round(timeout))}
    try:
        engine = create_engine(url, connect_args=connect_args)
    except (SQLAlchemyError, ImportError, ValueError) as exc:
        return _result(
            "database",
            "fail",
            f"Database {shown} cannot be used: {_database_problem(exc)}",
            "check REFLEX_DB_URL",
        )
    try:
        with engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
    except SQLAlchemyError as exc:
        return _database_unreachable(shown, exc)
    finally:
        engine.dispose()
    if current == head:
        return _result("database", "ok", f"Database {shown}: at the latest migration ({head})")
    if current is None:
        return _result(
            "database", "fail", f"Database {shown} has no migration applied", "make migrate"
        )
    if not _known_revision(current):
        return _result(
            "database",
            "fail",
            f"Database {shown} is at revision {current}, which this code does not know "
            "(a newer release migrated it?)",
            "update the code, or point REFLEX_DB_URL at this release's database",
        )
    return _result(
        "database",
        "fail",
        f"Database {shown} is at revision {current}, behind the latest ({head})",
        "make migrate",
    )


def _known_revision(revision: str) -> bool:
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    from cvi_app.store.migrate import alembic_config

    try:
        return (
            ScriptDirectory.from_config(alembic_config("sqlite://")).get_revision(revision)
            is not None
        )
    except CommandError:
        return False


def _database_unreachable(shown: str, exc: BaseException) -> CheckResult:
    problem = _database_problem(exc)
    lower = problem.lower()
    if "password authentication failed" in lower or "authentication failed" in lower:
        return _result(
            "database",
            "fail",
            f"Database {shown} refused the user name or password",
            "check the user and password in REFLEX_DB_URL",
        )
    if "does not exist" in lower and "database" in lower:
        return _result(
            "database",
            "fail",
            f"Database {shown}: {problem}",
            "create it (createdb), then make migrate",
        )
    return _result(
        "database",
        "fail",
        f"Database {shown} is not reachable: {problem}",
        "start the database server, or correct REFLEX_DB_URL",
    )


def _database_problem(exc: BaseException) -> str:
    original = getattr(exc, "orig", None) or exc
    text = " ".join(str(original).split())
    lower = text.lower()
    if "connection refused" in lower:
        where = re.search(r'server at "([^"]+)", port (\d+)', text)
        at = f" at {where.group(1)}:{where.group(2)}" if where else ""
        return f"nothing accepts connections{at} (connection refused)"
    if "timeout expired" in lower or "timed out" in lower:
        return "no answer in time (connection timed out)"
    if "could not translate host name" in lower or "name or service not known" in lower:
        return "its host name does not resolve"
    if "database is locked" in lower:
        return "the SQLite file is locked by another process"
    if "unable to open database file" in lower:
        return "the SQLite file cannot be opened (check the folder and its permissions)"
    text = re.sub(r"\(Background on this error at: [^)]*\)", "", text).strip()
    return mask_secrets(text[:300])
