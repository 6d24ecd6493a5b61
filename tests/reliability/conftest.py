"""Reliability tests run against real parts: the sandbox under uvicorn on a free 127.0.0.1 port
(REST with switchable faults, rooms, simulated replica), a real SQLite store migrated to head,
and the app's SessionManager configured as in the app (sandbox mounted at /sandbox)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from cvi_app.config import Settings
from cvi_app.live.manager import SessionManager
from cvi_app.live.updates import Notice
from cvi_app.store import session_scope
from cvi_app.store.models import Conversation, ConversationEvent
from tests.live.conftest import (
    SANDBOX_KEY,
    Live,
    LiveSandbox,
    app_database,
    engine,
    mounted_sandbox,
    open_session,
    sandbox,
    sqlite_template,
    store_url,
)

__all__ = [
    "app_database",
    "engine",
    "mounted_sandbox",
    "open_session",
    "sandbox",
    "sqlite_template",
    "store_url",
]

API_TIMEOUT = 1.0
"""Seconds the manager waits for each API answer in these tests (slow faults go past it)."""


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


def notices(live: Live, topic: str) -> list[Notice]:
    """The notices on `topic` a session has published so far, oldest first."""
    return [u for u in live.seen.updates if isinstance(u, Notice) and u.topic == topic]
