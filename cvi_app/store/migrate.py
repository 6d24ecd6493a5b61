"""Bring a database's schema to the latest migration (or back to none).

`python -m cvi_app.store.migrate` upgrades the database in Reflex's `db_url` to head; `--url`
names another one, `--downgrade-to-base` removes every table. The scripts live in `alembic/`
and are made with `reflex db makemigrations`.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from alembic import command
from cvi_app.store.db import create_db_engine, database_url, safe_url

__all__ = [
    "ALEMBIC_INI",
    "alembic_config",
    "current_revision",
    "downgrade_to_base",
    "head_revision",
    "main",
    "upgrade_to_head",
]

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]
ALEMBIC_INI = ROOT / "alembic.ini"


def alembic_config(url: str | None = None) -> Config:
    """Alembic's configuration for the project's scripts, aimed at `url` (default: `db_url`)."""
    config = Config(str(ALEMBIC_INI))
    config.set_main_option("script_location", str(ROOT / "alembic"))
    config.attributes["url"] = database_url(url)
    config.attributes["keep_logging"] = True
    return config


def upgrade_to_head(url: str | None = None) -> None:
    """Apply every migration the database does not have yet.

    Args:
        url: The database (default: Reflex's configured `db_url`).
    """
    config = alembic_config(url)
    command.upgrade(config, "head")
    logger.info("database %s is at %s", safe_url(config.attributes["url"]), head_revision())


def downgrade_to_base(url: str | None = None) -> None:
    """Undo every migration: the store's tables are dropped, with their data.

    Args:
        url: The database (default: Reflex's configured `db_url`).
    """
    command.downgrade(alembic_config(url), "base")


def head_revision() -> str | None:
    """The newest migration's revision id."""
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def current_revision(url: str | None = None) -> str | None:
    """The revision the database is at (None: no migration applied)."""
    engine = create_db_engine(url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def main(argv: list[str] | None = None) -> int:
    """Command line: upgrade to head (default) or downgrade to base."""
    parser = argparse.ArgumentParser(prog="python -m cvi_app.store.migrate", description=__doc__)
    parser.add_argument("--url", help="database URL (default: db_url from rxconfig.py)")
    parser.add_argument(
        "--downgrade-to-base", action="store_true", help="drop every table of the store"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if args.downgrade_to_base:
        downgrade_to_base(args.url)
    else:
        upgrade_to_head(args.url)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
