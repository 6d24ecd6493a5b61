"""Small SQL helpers the query modules share (dialect-aware inserts, table lookup, limits)."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, SQLModel

from cvi_app.store.db import UnsupportedDatabaseError

MAX_PAGE = 1000


def table_of(model: type[SQLModel]) -> Table:
    """The Core table behind a table model."""
    return cast(Table, model.__table__)  # type: ignore[attr-defined]


def insert_ignoring_conflicts(
    session: Session, model: type[SQLModel], *, unique: list[str]
) -> sqlite.Insert | postgresql.Insert:
    """`INSERT ... ON CONFLICT (unique) DO NOTHING` for the session's database.

    Args:
        session: The session (its bind decides the dialect).
        model: The table model to insert into.
        unique: The columns of the unique constraint that marks a duplicate.

    Returns:
        An insert statement; execute it with a list of row dicts to insert many rows.
    """
    table = table_of(model)
    dialect = session.get_bind().dialect.name
    stmt: sqlite.Insert | postgresql.Insert
    if dialect == "sqlite":
        stmt = sqlite.insert(table)
    elif dialect == "postgresql":
        stmt = postgresql.insert(table)
    else:
        raise UnsupportedDatabaseError(f"no insert-or-ignore for {dialect!r}")
    return stmt.on_conflict_do_nothing(index_elements=unique)


def check_limit(limit: int) -> int:
    """Refuse page sizes outside 1..MAX_PAGE (a page is one query's worth of rows)."""
    if not 1 <= limit <= MAX_PAGE:
        raise ValueError(f"limit must be between 1 and {MAX_PAGE}, got {limit}")
    return limit


def one_of_cursors(after: Any, before: Any) -> None:
    """Refuse paging forwards and backwards at once."""
    if after is not None and before is not None:
        raise ValueError("pass at most one of after_* and before_*")
