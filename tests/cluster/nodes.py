"""A small cluster for the cluster tests: real Redis, PostgreSQL and sandbox service, a node in
this test process (`local_node`) and nodes in processes of their own (`spawn_node`), and a
person seated in the room (so no session leaves an empty call)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from reflex.config import reload_config

from cvi_app.config import Settings
from cvi_app.live.manager import SessionManager
from cvi_app.live.updates import LiveUpdate
from cvi_app.store.db import dispose_engines
from cvi_app.transport import RoomTransport, TransportParams, create_transport
from tests.support.postgres import PostgresServer
from tests.support.redis_server import RedisServer
from tests.support.sandbox_service import SandboxService, run_sandbox_service

ROOT = Path(__file__).resolve().parents[2]
OWNER = "cluster-test-owner"
WORDS_PER_SECOND = 25.0


@dataclass(frozen=True)
class ClusterEnv:
    """Where the cluster's shared parts are: what every node is started with."""

    redis: RedisServer
    db_url: str
    sandbox: SandboxService

    def variables(self) -> dict[str, str]:
        """The environment of an app process in this cluster."""
        return {
            "REFLEX_REDIS_URL": self.redis.url,
            "REFLEX_DB_URL": self.db_url,
            "CVI_SANDBOX_URL": self.sandbox.url,
            "CVI_SANDBOX_API_KEY": self.sandbox.api_key,
        }


@pytest.fixture
def cluster_env(
    redis_server: RedisServer,
    postgres_server: PostgresServer,
    postgres_template: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[ClusterEnv]:
    """A fresh PostgreSQL database, the shared Redis and a sandbox service; this test process's
    store is that database."""
    with (
        postgres_server.database(template=postgres_template) as db_url,
        run_sandbox_service(tmp_path, words_per_second=WORDS_PER_SECOND) as sandbox,
    ):
        monkeypatch.delenv("TAVUS_API_KEY", raising=False)
        monkeypatch.setenv("REFLEX_DB_URL", db_url)
        reload_config()
        try:
            yield ClusterEnv(redis=redis_server, db_url=db_url, sandbox=sandbox)
        finally:
            dispose_engines()
            monkeypatch.delenv("REFLEX_DB_URL")
            reload_config()


@contextlib.asynccontextmanager
async def local_node(env: ClusterEnv) -> AsyncIterator[SessionManager]:
    """A cluster node in this test process (its session manager, started)."""
    settings = Settings(  # type: ignore[call-arg]
        CVI_SANDBOX_URL=env.sandbox.url, CVI_SANDBOX_API_KEY=env.sandbox.api_key
    )
    manager = SessionManager(settings, redis_url=env.redis.url)
    await manager.start()
    try:
        yield manager
    finally:
        await manager.aclose()


@dataclass
class NodeProcess:
    """A cluster node in a process of its own (see node_process.py)."""

    process: subprocess.Popen[str]
    node_id: str
    conversation_id: str

    def kill(self) -> None:
        """SIGKILL: the process dies at once, with whatever it had not written."""
        self.process.kill()
        self.process.wait(timeout=10)


@contextlib.asynccontextmanager
async def spawn_node(
    env: ClusterEnv, log: Path, *, start_for: str | None
) -> AsyncIterator[NodeProcess]:
    """Run a node process; with `start_for`, it starts a conversation for that owner."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("TAVUS_", "CVI_"))}
    variables = {**clean, **env.variables(), "PYTHONUNBUFFERED": "1"}
    if start_for:
        variables["CVI_TEST_START_OWNER"] = start_for
    with log.open("w") as errors:
        process = subprocess.Popen(  # noqa: ASYNC220 (starts at once; nothing waits on it)
            [sys.executable, "-m", "tests.cluster.node_process"],
            cwd=ROOT,
            env=variables,
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
        )
    try:
        assert process.stdout is not None
        line = await asyncio.wait_for(asyncio.to_thread(process.stdout.readline), 60)
        if not line:
            raise RuntimeError(f"the node process did not start:\n{log.read_text()}")  # noqa: ASYNC240
        said: dict[str, Any] = json.loads(line)
        yield NodeProcess(process, said["node_id"], said["conversation_id"])
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


@dataclass
class Person:
    """A person in the call, and every app-message they heard the replica send."""

    transport: RoomTransport
    heard_from_replica: list[dict[str, Any]] = field(default_factory=list)


@contextlib.asynccontextmanager
async def person_in_room(manager: SessionManager, conversation_id: str) -> AsyncIterator[Person]:
    """A person joined to the conversation's call (what keeps a session from leaving)."""
    async with manager.client() as client:
        conversation = await client.get_conversation(conversation_id)
    assert conversation.conversation_url
    person = create_transport(
        "sandbox",
        TransportParams(
            room_url=conversation.conversation_url,
            meeting_token=conversation.meeting_token,
            user_name="a person",
        ),
    )
    seated = Person(person)

    async def hear(message: dict[str, Any], sender_id: str) -> None:
        if person.is_replica(sender_id):
            seated.heard_from_replica.append(message)

    person.on_app_message(hear)
    await person.join()
    try:
        yield seated
    finally:
        await person.leave()


class Follower:
    """What a tab following a conversation receives: every update, as it arrives."""

    def __init__(self) -> None:
        self.updates: list[LiveUpdate] = []
        self.arrived = asyncio.Event()

    def take(self, updates: list[LiveUpdate]) -> None:
        self.updates.extend(updates)
        self.arrived.set()

    def numbered(self) -> list[int]:
        """The update ids received, in the order they came."""
        return [u.update_id for u in self.updates if u.update_id]
