"""The Reflex states' handlers, run through Reflex's own event processor without a browser
(`tests/support/reflex_tabs.py`), over the real SQLite store and, for the handlers that need
one, the app's session manager over the real sandbox (the fixtures of tests/live)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from cvi_app.live import manager as manager_module
from cvi_app.live.manager import SessionManager
from cvi_app.state import catalog
from tests.live.conftest import (
    app_database,
    engine,
    manager,
    manager_options,
    mounted_sandbox,
    sqlite_template,
    store_url,
)
from tests.support.reflex_tabs import Backend, running_states

__all__ = [
    "app_database",
    "engine",
    "manager",
    "manager_options",
    "mounted_sandbox",
    "sqlite_template",
    "store_url",
]


@pytest.fixture
async def states(
    app_database: str,  # noqa: F811 (fixture)
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[Backend]:
    """The app's states behind Reflex's event processor, on this test's store.

    The process-wide catalog of persona and replica names starts empty (a test's names come
    from its own sandbox).
    """
    monkeypatch.setattr(catalog, "_cached", None)
    async with running_states() as backend:
        yield backend
        assert backend.errors == [], "a handler raised"


@pytest.fixture
def app_manager(
    manager: SessionManager,  # noqa: F811 (fixture)
    monkeypatch: pytest.MonkeyPatch,
) -> SessionManager:
    """This test's session manager as the process's one (what `get_manager()` returns)."""
    monkeypatch.setattr(manager_module, "_manager", manager)
    return manager


@pytest.fixture
def live_states(app_manager: SessionManager, states: Backend) -> Backend:
    """`states` with `app_manager` in place (torn down before the manager closes)."""
    return states
