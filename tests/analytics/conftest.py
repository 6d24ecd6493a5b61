"""Analytics tests run on the real store (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from reflex.config import reload_config

from cvi_app.config import get_settings
from cvi_app.store.db import dispose_engines


@pytest.fixture
def app_database(migrated_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The app's configured database (Reflex's `db_url`) is this test's."""
    monkeypatch.setenv("REFLEX_DB_URL", migrated_url)
    reload_config()
    get_settings.cache_clear()
    yield migrated_url
    dispose_engines()
    monkeypatch.delenv("REFLEX_DB_URL")
    reload_config()
    get_settings.cache_clear()
