"""Reliability tests run against real parts: the sandbox under uvicorn on a free 127.0.0.1 port
(REST with switchable faults, rooms, simulated replica), a real SQLite store migrated to head,
and the app's SessionManager configured as in the app (sandbox mounted at /sandbox)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from cvi_app.live.updates import Notice
from cvi_app.store import session_scope
from cvi_app.store.models import Conversation, ConversationEvent
from tests.live.conftest import (
    Live,
    app_database,
    engine,
    manager,
    mounted_sandbox,
    open_session,
    sandbox,
    sqlite_template,
    store_url,
)

__all__ = [
    "app_database",
    "engine",
    "manager",
    "mounted_sandbox",
    "open_session",
    "sandbox",
    "sqlite_template",
    "store_url",
]

API_TIMEOUT = 1.0
"""Seconds the manager waits for each API answer in these tests (slow faults go past it)."""


@pytest.fixture
def manager_options() -> dict[str, Any]:
    """The manager gives up on each API answer after `API_TIMEOUT`."""
    return {"api_timeout": API_TIMEOUT}


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
