"""The kit's states run through Reflex's event processor over the real sandbox and store
(the fixtures of tests/state and tests/live)."""

from tests.live.conftest import (
    app_database,
    engine,
    manager,
    manager_options,
    mounted_sandbox,
    sqlite_template,
    store_url,
)
from tests.state.conftest import app_manager, live_states, states

__all__ = [
    "app_database",
    "app_manager",
    "engine",
    "live_states",
    "manager",
    "manager_options",
    "mounted_sandbox",
    "sqlite_template",
    "states",
    "store_url",
]
