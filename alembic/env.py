"""Alembic environment for the conversation store.

`reflex db makemigrations` and `reflex db migrate` run Reflex's own Alembic driver and read only
alembic.ini's script_location; this file serves the Alembic command API
(`cvi_app.store.migrate`) and the `alembic` CLI.

The URL, first found wins: a connection or URL passed in `config.attributes` by
`cvi_app.store.migrate`, `-x url=...` on the alembic command line, `sqlalchemy.url` in
alembic.ini, Reflex's `db_url` (rxconfig.py / REFLEX_DB_URL).
"""

from logging.config import fileConfig

from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

import cvi_app.deployments.models  # noqa: F401
import cvi_app.store.models  # noqa: F401  (registers the tables on SQLModel.metadata)
from alembic import context
from cvi_app.store.db import create_db_engine, database_url

config = context.config

# The alembic CLI configures logging from alembic.ini; in-process callers keep their own.
if config.config_file_name is not None and not config.attributes.get("keep_logging"):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = SQLModel.metadata


def _url() -> str:
    url = (
        config.attributes.get("url")
        or context.get_x_argument(as_dictionary=True).get("url")
        or config.get_main_option("sqlalchemy.url")
        or None
    )
    return database_url(url)


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things: batch mode copies the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
    )


def run_migrations_offline() -> None:
    """Emit the migration SQL for the configured URL without connecting."""
    url = _url()
    context.configure(
        url=url,
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        render_as_batch=url.startswith("sqlite"),
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Apply migrations on a live connection."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    # Foreign keys off on SQLite: batch migrations drop and re-create referenced tables.
    engine = create_db_engine(_url(), foreign_keys=False)
    try:
        with engine.connect() as connection:
            _configure(connection)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
