"""DailyTransport on the real daily-python SDK, for everything that runs offline.

These machines have no route to Daily, so a real `CallClient` can be made, joined to a room and
released, but every join fails: an address Daily cannot parse fails at once, a well-formed
room URL fails through the join completion after Daily's own ~19 s. Joined-call behaviour
(app-messages, participants, reconnecting) is in test_daily.py, where the handler methods of
the real `EventHandler` subclass are driven with the payloads daily-python documents.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine

from cvi_app.config import Settings
from cvi_app.live.manager import SessionManager, StartOptions
from cvi_app.presentation.errors import describe_error
from cvi_app.store import session_scope
from cvi_app.store.models import Conversation
from cvi_app.transport import JoinError, NotJoinedError, TransportParams
from cvi_app.transport.daily import (
    CallClientLike,
    DailyTransport,
    default_call_client,
    wait_for_releases,
)
from tests.live.conftest import (  # noqa: F401 (fixtures)
    app_database,
    engine,
    sandbox,
    sqlite_template,
    store_url,
)
from tests.support.sandbox import SANDBOX_KEY, LiveSandbox
from tests.support.servers import wait_for

UNPARSABLE_ROOM = "not-a-room-url"
"""Daily refuses this at once: it cannot parse it as a URL."""
UNREACHABLE_ROOM = "https://tavus.daily.co/c-unreachable"
"""A well-formed Daily room: with no route to Daily, its join fails only after ~19 s."""
DAILY_OWN_JOIN_FAILURE = 19.0
"""Seconds daily-python takes to report an unreachable room through the join completion."""


class RealClients:
    """The default factory (real `CallClient`s after `Daily.init()`), keeping what it made."""

    def __init__(self) -> None:
        self.made: list[CallClientLike] = []

    def __call__(self, handler: Any) -> CallClientLike:
        client = default_call_client(handler)
        self.made.append(client)
        return client

    def all_released(self) -> bool:
        """Whether every client made has been released (daily-python then refuses any call)."""
        for client in self.made:
            try:
                client.participants()
            except RuntimeError as exc:
                assert "released" in str(exc)
            else:
                return False
        return True


def new_threads(before: set[threading.Thread]) -> list[threading.Thread]:
    """Python threads started since `before`, other than Daily's own native threads.

    Daily runs its callbacks on threads it starts once per process; Python sees them as dummy
    threads. Any other new thread (a release worker, an executor) was left behind.
    """
    return [
        thread
        for thread in threading.enumerate()
        if thread not in before and not isinstance(thread, threading._DummyThread)
    ]


def assert_one_plain_sentence(message: str) -> None:
    """What a person reads: one sentence, no SDK internals (Rust enums, Python reprs)."""
    assert message.endswith("."), message
    assert ". " not in message.rstrip("."), message
    for internal in ("(", ")", "{", '"', "Error", "Daily", "request", "http"):
        assert internal not in message, f"{internal!r} in {message!r}"


@pytest.fixture
def threads_before() -> set[threading.Thread]:
    return set(threading.enumerate())


async def test_daily_is_initialised_once_however_many_transports_a_process_makes() -> None:
    # A second Daily.init() aborts the process, and so does a CallClient made before it: a
    # child process makes several transports at once, from the loop and from plain threads.
    script = textwrap.dedent(
        f"""
        import asyncio, threading
        from cvi_app.transport import JoinError, TransportParams
        from cvi_app.transport.daily import DailyTransport, default_call_client

        async def main():
            transports = [
                DailyTransport(TransportParams(room_url={UNPARSABLE_ROOM!r}))
                for _ in range(3)
            ]
            outcomes = await asyncio.gather(
                *(t.join() for t in transports), return_exceptions=True
            )
            assert all(isinstance(o, JoinError) for o in outcomes), outcomes
            for transport in transports:
                await transport.leave()

        def from_a_thread():
            default_call_client(None).release()

        threads = [threading.Thread(target=from_a_thread) for _ in range(3)]
        for thread in threads:
            thread.start()
        asyncio.run(main())
        for thread in threads:
            thread.join()
        print("six clients made and released")
        """
    )
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        script,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(child.communicate(), 60)
    assert child.returncode == 0, err.decode(errors="replace")[-2000:]
    assert out.decode().strip() == "six clients made and released"


async def test_a_refused_join_is_one_plain_sentence_and_leaves_nothing_behind(
    threads_before: set[threading.Thread],
) -> None:
    clients = RealClients()
    transport = DailyTransport(
        TransportParams(room_url=UNPARSABLE_ROOM), call_client_factory=clients
    )

    with pytest.raises(JoinError) as refused:
        await transport.join()

    assert_one_plain_sentence(describe_error(refused.value))
    assert clients.all_released()
    with pytest.raises(NotJoinedError):
        await transport.send({"event_type": "conversation.interrupt"})
    await asyncio.gather(transport.leave(), transport.leave())
    await transport.leave()
    await wait_for(lambda: not new_threads(threads_before), what="no thread left behind")


async def _heartbeat(gaps: list[float]) -> None:
    """Tick every 20 ms, noting the longest the event loop made a tick wait."""
    last = time.monotonic()
    while True:
        await asyncio.sleep(0.02)
        now = time.monotonic()
        gaps.append(now - last)
        last = now


async def test_an_unreachable_room_fails_within_the_join_timeout_and_releases_afterwards(
    threads_before: set[threading.Thread],
) -> None:
    clients = RealClients()
    transport = DailyTransport(
        TransportParams(room_url=UNREACHABLE_ROOM, meeting_token="tok"),
        call_client_factory=clients,
        join_timeout=1.0,
    )
    gaps: list[float] = []
    beat = asyncio.get_running_loop().create_task(_heartbeat(gaps))
    started = time.monotonic()

    with pytest.raises(JoinError) as timed_out:
        await transport.join()

    waited = time.monotonic() - started
    # Daily itself gives up only after ~19 s; the person hears well before that, and the event
    # loop (every other conversation of the process) never stalls meanwhile.
    assert waited < DAILY_OWN_JOIN_FAILURE / 2, f"the join failed only after {waited:.1f} s"
    message = describe_error(timed_out.value)
    assert_one_plain_sentence(message)
    assert "did not answer" in message

    # Daily's calls block until its own attempt ends; leaving waits for that, off the loop.
    await asyncio.gather(transport.leave(), transport.leave())
    await transport.leave()
    beat.cancel()
    assert max(gaps) < 1.0, f"the event loop stalled for {max(gaps):.1f} s"
    assert clients.all_released()
    await wait_for(lambda: not new_threads(threads_before), what="no thread left behind")


# ---- through the app's session manager, in tavus mode ----------------------------------------


@pytest.fixture
async def tavus_mode_manager(
    sandbox: LiveSandbox,  # noqa: F811 (fixture)
    app_database: str,  # noqa: F811 (fixture)
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[SessionManager]:
    """The app's manager in tavus mode, with the standalone sandbox standing in for Tavus.

    Its conversations' rooms are the sandbox's, which Daily cannot join: the transport is a
    real DailyTransport whose join fails.
    """
    monkeypatch.delenv("CVI_SANDBOX_API_KEY", raising=False)
    settings = Settings(  # type: ignore[call-arg]
        TAVUS_API_KEY=SANDBOX_KEY, TAVUS_API_BASE=f"{sandbox.root_url}/v2"
    )
    assert settings.mode == "tavus"
    manager = SessionManager(settings, join_timeout=1.0)
    yield manager
    await manager.aclose()
    await wait_for_releases()


async def conversations_at_the_api(sandbox: LiveSandbox) -> list[dict[str, Any]]:  # noqa: F811
    response = await sandbox.api.get("/v2/conversations")
    assert response.status_code == httpx.codes.OK, response.text
    listed: list[dict[str, Any]] = response.json()["data"]
    return listed


async def test_a_tavus_start_whose_room_cannot_be_joined_says_why_and_ends_the_conversation(
    tavus_mode_manager: SessionManager,
    sandbox: LiveSandbox,  # noqa: F811 (fixture)
    engine: Engine,  # noqa: F811 (fixture)
) -> None:
    manager = tavus_mode_manager
    started = time.monotonic()

    with pytest.raises(JoinError) as failed:
        await manager.start_conversation(owner="tab-a", options=StartOptions(name="Billed?"))

    assert time.monotonic() - started < DAILY_OWN_JOIN_FAILURE / 2
    message = describe_error(failed.value)
    assert_one_plain_sentence(message)
    # Nothing keeps billing: the API was told to end the conversation the failed start created.
    [conversation] = await conversations_at_the_api(sandbox)
    assert conversation["status"] == "ended"
    cid = conversation["conversation_id"]
    with session_scope(engine) as s:
        row = s.get(Conversation, cid)
        assert row is not None
        assert row.status == "ended"
        assert row.shutdown_reason == f"start failed: {message}"
    assert await manager.live_conversations(owner="tab-a") == []
