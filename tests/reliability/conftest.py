"""Reliability tests run against real parts: the sandbox under uvicorn on a free 127.0.0.1 port
(REST with switchable faults, rooms, simulated replica), a real SQLite store migrated to head,
and the app's SessionManager configured as in the app (sandbox mounted at /sandbox)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
from reflex.config import reload_config
from sqlalchemy import Engine
from sqlmodel import select

from cvi_app.config import Settings
from cvi_app.live.bus import EventBus
from cvi_app.live.demo_tools import register_demo_tools
from cvi_app.live.manager import SessionManager
from cvi_app.live.recorder import StoreRecorder
from cvi_app.live.session import ConversationSession
from cvi_app.live.tools import ToolRegistry
from cvi_app.live.updates import LiveUpdate, Notice
from cvi_app.store import session_scope
from cvi_app.store.db import dispose_engines
from cvi_app.store.models import Conversation, ConversationEvent
from cvi_app.store.writer import EventWriter
from cvi_app.transport import LocalTransport, TransportParams
from tests.live.conftest import (
    SANDBOX_KEY,
    Live,
    LiveSandbox,
    add_conversation,
    engine,
    sandbox,
    sqlite_template,
    start_sandbox,
    store_url,
    watch,
)

__all__ = ["engine", "sandbox", "sqlite_template", "store_url"]

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


def notices(live: Live, topic: str) -> list[Notice]:
    """The notices on `topic` a session has published so far, oldest first."""
    return [u for u in live.seen.updates if isinstance(u, Notice) and u.topic == topic]


@pytest.fixture
async def open_live(sandbox: LiveSandbox, engine: Engine) -> AsyncIterator[Callable[..., Any]]:
    """`await open_live(transport_options=..., session_options=..., **create_body)`.

    A session in a new sandbox conversation, over a LocalTransport built with the given options
    and recorded in the store; every one is closed afterwards. With `bare_room=cid`, the session
    joins a room opened on the hub with nobody in it (no conversation, no simulated replica).
    """
    opened: list[Live] = []

    async def open_(
        *,
        transport_options: dict[str, Any] | None = None,
        session_options: dict[str, Any] | None = None,
        where: LiveSandbox | None = None,
        bare_room: str | None = None,
        **body: Any,
    ) -> Live:
        running = where or sandbox
        if bare_room is None:
            conversation = await running.create(**body)
        else:
            running.parts.hub.open(bare_room)
            conversation = {
                "conversation_id": bare_room,
                "conversation_url": f"{running.root_url}/rooms/{bare_room}",
            }
        cid = conversation["conversation_id"]
        add_conversation(engine, cid)
        transport = LocalTransport(
            TransportParams(
                room_url=conversation["conversation_url"],
                meeting_token=conversation.get("meeting_token"),
                user_name="cvi-studio",
            ),
            **(transport_options or {}),
        )
        bus: EventBus[LiveUpdate] = EventBus()
        writer = EventWriter(engine, max_delay=0.01)
        ended: list[str] = []
        session = ConversationSession(
            cid,
            transport,
            bus=bus,
            recorder=StoreRecorder(cid, engine=engine, writer=writer),
            tools=register_demo_tools(ToolRegistry()),
            on_end=ended.append,
            **(session_options or {}),
        )
        live = Live(conversation, session, transport, watch(bus, cid), writer, ended)
        opened.append(live)
        await session.start()
        return live

    yield open_
    for live in opened:
        await live.session.close("test over")
        live.seen.subscription.close()
        await live.writer.aclose()
