"""Live-layer tests run against real parts: the sandbox served by uvicorn on a free 127.0.0.1
port (REST, rooms, simulated replica) and a real SQLite store migrated to head."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from reflex.config import reload_config
from sqlalchemy import Engine

from cvi_app.config import Settings
from cvi_app.live.bus import EventBus, Subscription
from cvi_app.live.demo_tools import register_demo_tools
from cvi_app.live.manager import SessionManager
from cvi_app.live.recorder import StoreRecorder
from cvi_app.live.session import ConversationSession
from cvi_app.live.tools import ToolRegistry
from cvi_app.live.updates import EventReceived, InteractionSent, LiveUpdate, ToolCallUpdate
from cvi_app.protocol import Event
from cvi_app.store import ConversationCreate, create_conversation, session_scope
from cvi_app.store.db import create_db_engine, dispose_engines
from cvi_app.store.migrate import upgrade_to_head
from cvi_app.store.writer import EventWriter
from cvi_app.transport import LocalTransport, TransportParams
from tests.support.sandbox import SANDBOX_KEY, LiveSandbox, start_sandbox
from tests.support.servers import wait_for

# ---- the store -------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to head, copied by each test that needs a store."""
    path = tmp_path_factory.mktemp("live-template") / "store.db"
    upgrade_to_head(f"sqlite:///{path}")
    return path


@pytest.fixture
def store_url(sqlite_template: Path, tmp_path: Path) -> str:
    """A fresh SQLite database at head, for this test only."""
    path = tmp_path / "store.db"
    shutil.copyfile(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def engine(store_url: str) -> Iterator[Engine]:
    engine = create_db_engine(store_url)
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture
def app_database(store_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Point the app's configured database (Reflex's `db_url`) at this test's store."""
    monkeypatch.setenv("REFLEX_DB_URL", store_url)
    reload_config()
    yield store_url
    dispose_engines()
    monkeypatch.delenv("REFLEX_DB_URL")
    reload_config()


def add_conversation(engine: Engine, conversation_id: str, **fields: Any) -> None:
    """Store a conversation row, so a recorder can store its events."""
    data = ConversationCreate.model_validate(
        {"conversation_id": conversation_id, "mode": "sandbox", **fields}
    )
    with session_scope(engine) as session:
        create_conversation(session, data=data)


# ---- the sandbox -----------------------------------------------------------------------------


@pytest.fixture
async def sandbox() -> AsyncIterator[LiveSandbox]:
    """The sandbox with the stock personas; replicas speak fast."""
    async with start_sandbox() as running:
        yield running


@pytest.fixture
async def mounted_sandbox() -> AsyncIterator[LiveSandbox]:
    """The sandbox mounted at /sandbox, so its API base is `{url}/sandbox/v2` as in the app."""
    async with start_sandbox(mount="/sandbox") as running:
        yield running


# ---- the app's session manager ---------------------------------------------------------------


@pytest.fixture
def manager_options() -> dict[str, Any]:
    """Keyword arguments for the `manager` fixture's SessionManager (a folder may override)."""
    return {}


@pytest.fixture
async def manager(
    mounted_sandbox: LiveSandbox,
    app_database: str,
    manager_options: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[SessionManager]:
    """The app's session manager in sandbox mode, over the mounted sandbox and this store."""
    monkeypatch.delenv("TAVUS_API_KEY", raising=False)
    settings = Settings(  # type: ignore[call-arg]
        CVI_PUBLIC_URL=mounted_sandbox.root_url, CVI_SANDBOX_API_KEY=SANDBOX_KEY
    )
    assert settings.mode == "sandbox"
    assert settings.api_base == f"{mounted_sandbox.root_url}/sandbox/v2"
    manager = SessionManager(settings, **manager_options)
    yield manager
    await manager.aclose()


# ---- a session over a real room, recorded in the real store ----------------------------------


@dataclass
class Watched:
    """Everything a session published on the bus, read straight off its subscription."""

    subscription: Subscription[LiveUpdate]
    _seen: list[LiveUpdate] = field(default_factory=list)

    @property
    def updates(self) -> list[LiveUpdate]:
        self._seen.extend(self.subscription.drain())
        return self._seen

    def events(self) -> list[Event]:
        return [u.event for u in self.updates if isinstance(u, EventReceived)]

    def sent(self) -> list[InteractionSent]:
        return [u for u in self.updates if isinstance(u, InteractionSent)]

    def tool_updates(self) -> list[ToolCallUpdate]:
        return [u for u in self.updates if isinstance(u, ToolCallUpdate)]

    def of_type(self, event_type: str) -> list[Event]:
        return [e for e in self.events() if e.event_type == event_type]

    def replica_lines(self) -> list[str]:
        """What the replica said, from its `conversation.utterance` events."""
        return [
            e.properties.speech  # type: ignore[union-attr]
            for e in self.of_type("conversation.utterance")
            if e.role in ("replica", "pal")
        ]

    def turns_finished(self) -> int:
        return len(self.of_type("conversation.replica.stopped_speaking"))

    async def wait(self, condition: Callable[[], object], what: str) -> None:
        await wait_for(condition, what=what)


def watch(bus: EventBus[LiveUpdate], topic: str) -> Watched:
    return Watched(bus.subscribe(topic))


@dataclass
class Live:
    """A started session in a sandbox conversation, with what it published."""

    conversation: dict[str, Any]
    session: ConversationSession
    transport: LocalTransport
    seen: Watched
    writer: EventWriter
    ended: list[str]

    @property
    def cid(self) -> str:
        return str(self.conversation["conversation_id"])

    def replica_id(self) -> str:
        [replica] = [p.id for p in self.transport.participants().values() if p.is_replica]
        return replica


@pytest.fixture
async def open_session(sandbox: LiveSandbox, engine: Engine) -> AsyncIterator[Callable[..., Any]]:
    """`await open_session(**create_body, tools=..., where=..., ...)`: a session in a new sandbox
    conversation, over a real room, recorded in the store.

    `tools` (the demo tools by default), `session_options` and `transport_options` go to the
    session and its LocalTransport; `where` is another running sandbox. With `bare_room=cid`,
    the session joins a room opened on the hub with nobody in it (no conversation, no simulated
    replica). Every session opened is closed (its writer flushed, its collector stopped)
    afterwards.
    """
    opened: list[Live] = []

    async def open_(
        *,
        tools: ToolRegistry | None = None,
        where: LiveSandbox | None = None,
        session_options: dict[str, Any] | None = None,
        transport_options: dict[str, Any] | None = None,
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
            tools=tools if tools is not None else register_demo_tools(ToolRegistry()),
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
