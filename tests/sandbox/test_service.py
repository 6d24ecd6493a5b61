"""The sandbox as its own service (`python -m cvi_app.sandbox`): app processes pointed at it with
`CVI_SANDBOX_URL` start conversations over real HTTP, sit in its rooms over real WebSockets, and
all see the same conversations; SIGTERM closes its rooms and it exits cleanly.

Each `SessionManager` here stands in for one app process (the store is a real SQLite file)."""

from __future__ import annotations

import asyncio
import json
import shutil
import signal
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest
from reflex.config import reload_config
from sqlalchemy import Engine
from sqlmodel import select

from cvi_app.config import Settings
from cvi_app.live.manager import SessionManager, StartOptions
from cvi_app.store import session_scope
from cvi_app.store.db import create_db_engine, dispose_engines
from cvi_app.store.models import ConversationEvent
from tests.support.fresh_python import last_line
from tests.support.sandbox_service import SandboxService, run_sandbox_service
from tests.support.servers import WAIT, free_port, wait_for

GREETING = "Welcome to the shared sandbox."
# Nobody listens there: the service's webhooks to the app fail fast, which is all they may do.
NO_APP = "http://127.0.0.1:9"


@pytest.fixture(autouse=True)
def no_configured_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("TAVUS_API_KEY", "CVI_SANDBOX_URL", "CVI_SANDBOX_API_KEY", "CVI_PUBLIC_URL"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxService]:
    """One sandbox service for the module's app processes."""
    with run_sandbox_service(tmp_path_factory.mktemp("service")) as running:
        yield running


@pytest.fixture
def store(
    sqlite_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Engine]:
    """The app's database (Reflex's `db_url`), a fresh SQLite file at head."""
    path = tmp_path / "store.db"
    shutil.copyfile(sqlite_template, path)
    monkeypatch.setenv("REFLEX_DB_URL", f"sqlite:///{path}")
    reload_config()
    engine = create_db_engine(f"sqlite:///{path}")
    yield engine
    engine.dispose()
    dispose_engines()
    monkeypatch.delenv("REFLEX_DB_URL")
    reload_config()


def app_settings(service: SandboxService, *, url: str | None = None) -> Settings:
    """An app process's settings in sandbox mode, pointed at the service (at `url` if given)."""
    settings = Settings(  # type: ignore[call-arg]
        CVI_SANDBOX_URL=url or service.url,
        CVI_SANDBOX_API_KEY=service.api_key,
        CVI_PUBLIC_URL=NO_APP,
        CVI_WEBHOOK_SECRET="w" * 32,
        CVI_SECRET_KEY="s" * 32,
    )
    assert (settings.mode, settings.sandbox_mounted) == ("sandbox", False)
    return settings


@pytest.fixture
async def app_process(store: Engine) -> AsyncIterator[Callable[..., SessionManager]]:
    """`app_process(service)`: a SessionManager like an app process's; all closed afterwards."""
    made: list[SessionManager] = []

    def make(service: SandboxService, *, url: str | None = None) -> SessionManager:
        made.append(SessionManager(app_settings(service, url=url), join_timeout=WAIT))
        return made[-1]

    yield make
    for manager in made:
        await manager.aclose()


def stored_lines(engine: Engine, cid: str) -> list[str]:
    """What was said in a conversation, as the app process stored it."""
    with session_scope(engine) as s:
        rows = s.exec(select(ConversationEvent).where(ConversationEvent.conversation_id == cid))
        return [row.text for row in rows if row.text]


async def test_an_app_process_starts_a_conversation_there_and_hears_the_replica_answer(
    service: SandboxService, app_process: Callable[..., SessionManager], store: Engine
) -> None:
    manager = app_process(service)
    assert manager.settings.api_base == f"{service.url}/sandbox/v2"

    conversation = await manager.start_conversation(
        owner="tab-a", options=StartOptions(greeting=GREETING)
    )
    cid = conversation.conversation_id
    assert str(conversation.conversation_url).startswith(f"{service.url}/sandbox/rooms/{cid}")
    # The browser joins the same room, at the service (not at this app process).
    assert manager.join_url(cid).startswith(str(conversation.conversation_url))
    session = manager.session_for(cid, owner="tab-a")
    assert session.status == "live"
    await wait_for(lambda: GREETING in stored_lines(store, cid), what="the greeting")

    await session.respond("Hello there")

    def answered() -> bool:
        return any(line.startswith("Hello! It's good to hear") for line in stored_lines(store, cid))

    await wait_for(answered, what="the replica's answer to the respond")
    assert "Hello there" in stored_lines(store, cid)


async def test_two_app_processes_see_the_same_conversations_at_the_service(
    service: SandboxService, app_process: Callable[..., SessionManager]
) -> None:
    first, second = app_process(service), app_process(service)
    conversation = await first.start_conversation(owner="tab-a", options=StartOptions())
    cid = conversation.conversation_id

    async with second.client() as client:
        listed = await client.list_conversations(limit=100, status="active")
        seen = await client.get_conversation(cid)
    assert cid in [c.conversation_id for c in listed.data]
    assert (seen.status, seen.conversation_url) == ("active", conversation.conversation_url)
    assert (await second.conversation_at_api(cid)).state == "live"

    await first.end_conversation(cid, owner="tab-a")
    answer = await second.conversation_at_api(cid)
    assert answer.state == "ended"


async def test_browsers_get_room_links_at_the_services_public_url(
    tmp_path: Path, app_process: Callable[..., SessionManager]
) -> None:
    # App processes call it at 127.0.0.1; browsers are told `localhost`, its public name here.
    port = free_port()
    public = f"http://localhost:{port}"
    with run_sandbox_service(tmp_path, "--public-url", public, port=port) as service:
        manager = app_process(service, url=f"http://127.0.0.1:{port}")
        conversation = await manager.start_conversation(owner="tab-a", options=StartOptions())
        cid = conversation.conversation_id

        assert str(conversation.conversation_url).startswith(f"{public}/sandbox/rooms/{cid}")
        assert manager.join_url(cid).startswith(f"{public}/sandbox/rooms/{cid}")
        assert manager.session_for(cid, owner="tab-a").status == "live"


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
async def test_a_stop_signal_closes_every_room_and_the_service_exits_cleanly(
    tmp_path: Path, app_process: Callable[..., SessionManager], how: signal.Signals
) -> None:
    with run_sandbox_service(tmp_path) as service:
        manager = app_process(service)
        conversation = await manager.start_conversation(owner="tab-a", options=StartOptions())
        session = manager.session_for(conversation.conversation_id, owner="tab-a")

        asked = time.monotonic()
        status = await asyncio.to_thread(service.stop, how)
        took = time.monotonic() - asked

        assert status == 0, service.output()
        assert took < 5, f"stopping took {took:.1f} s"
        assert "Traceback" not in service.output()
        # The room told the app process it closed: its session ended, saying why.
        await wait_for(lambda: session.ended, what="the session to end with the room")
        assert session.end_reason == "server shutting down"


def _app_sandbox(**env: str) -> dict[str, object]:
    """What a fresh app process with only `env` configured mounts and starts of the sandbox."""
    script = (
        "import asyncio, json, cvi_app.backend as m\n"
        "async def started():\n"
        "    async with m._run_sandbox():\n"
        "        return m._sandbox._app is not None\n"
        "print(json.dumps({'mounted': '/sandbox' in [getattr(r, 'path', '') for r in"
        " m._extra_routes().routes], 'started': asyncio.run(started()),"
        " 'api_base': m.get_settings().api_base}))"
    )
    answer: dict[str, object] = json.loads(last_line(script, **env))
    return answer


def test_an_app_pointed_at_the_service_neither_mounts_nor_starts_a_sandbox_of_its_own() -> None:
    pointed = _app_sandbox(CVI_SANDBOX_URL="http://sandbox.internal:8100", CVI_SANDBOX_API_KEY="k")
    assert pointed == {
        "mounted": False,
        "started": False,
        "api_base": "http://sandbox.internal:8100/sandbox/v2",
    }
    # Without it, the app mounts its own and starts it with the app, as before.
    assert _app_sandbox() == {
        "mounted": True,
        "started": True,
        "api_base": "http://localhost:8000/sandbox/v2",
    }
