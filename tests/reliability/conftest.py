"""Reliability tests run against real parts: the sandbox under uvicorn on a free 127.0.0.1 port
(REST with switchable faults, rooms, simulated replica), a real SQLite store migrated to head,
and the app's SessionManager configured as in the app (sandbox mounted at /sandbox)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from reflex.config import reload_config
from sqlalchemy import Engine
from sqlmodel import select

from cvi_app.config import Settings
from cvi_app.live.manager import SessionManager
from cvi_app.store import session_scope
from cvi_app.store.db import dispose_engines
from cvi_app.store.models import Conversation, ConversationEvent
from tests.live.conftest import (
    SANDBOX_KEY,
    LiveSandbox,
    engine,
    sqlite_template,
    start_sandbox,
    store_url,
)

__all__ = ["engine", "sqlite_template", "store_url"]

API_TIMEOUT = 1.0
"""Seconds the manager waits for each API answer in these tests (slow faults go past it)."""


@pytest.fixture
def app_database(store_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Point the app's configured database (Reflex's `db_url`) at this test's store."""
    monkeypatch.setenv("REFLEX_DB_URL", store_url)
    reload_config()
    yield store_url
    dispose_engines()
    monkeypatch.delenv("REFLEX_DB_URL")
    reload_config()


@pytest.fixture
async def mounted_sandbox() -> AsyncIterator[LiveSandbox]:
    """The sandbox mounted at /sandbox (API base `{url}/sandbox/v2`, as in the app)."""
    async with start_sandbox(mount="/sandbox") as running:
        running.parts.registry.faults.clear()
        yield running


@pytest.fixture
async def manager(
    mounted_sandbox: LiveSandbox, app_database: str, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[SessionManager]:
    """The app's session manager in sandbox mode, with a short API timeout."""
    monkeypatch.delenv("TAVUS_API_KEY", raising=False)
    settings = Settings(  # type: ignore[call-arg]
        CVI_PUBLIC_URL=mounted_sandbox.root_url, CVI_SANDBOX_API_KEY=SANDBOX_KEY
    )
    manager = SessionManager(settings, api_timeout=API_TIMEOUT)
    yield manager
    await manager.aclose()


def stored_conversations(engine: Engine) -> list[Conversation]:
    with session_scope(engine) as s:
        return list(s.exec(select(Conversation)))


def stored_events(engine: Engine, cid: str) -> list[ConversationEvent]:
    with session_scope(engine) as s:
        query = select(ConversationEvent).where(ConversationEvent.conversation_id == cid)
        return list(s.exec(query.order_by(ConversationEvent.id)))  # type: ignore[arg-type]
