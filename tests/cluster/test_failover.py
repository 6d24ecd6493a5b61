"""Two processes, one conversation: routed sends, a SIGKILL of the holder, and a takeover.

Everything is real: Redis, PostgreSQL, the sandbox service over HTTP and WebSocket, a node in
its own process (killed with SIGKILL) and a node in this test process; a person sits in the call
so the session has someone to stay for.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from cvi_app.live.bus_factory import make_bus
from cvi_app.live.cluster.remote import RemoteSession
from cvi_app.live.errors import NotAllowedError
from cvi_app.live.history import restore
from cvi_app.live.manager import SessionManager
from cvi_app.live.session import TAKEN_OVER
from cvi_app.live.updates import EventReceived, InteractionSent, Notice
from cvi_app.store.db import get_engine, run_in_transaction
from cvi_app.store.events import list_events_before_update
from tests.cluster.nodes import (
    OWNER,
    ClusterEnv,
    Follower,
    cluster_env,
    local_node,
    person_in_room,
    spawn_node,
)
from tests.support.servers import wait_for

__all__ = ["cluster_env"]

pytestmark = pytest.mark.timeout(180)

TAKEOVER_LIMIT_S = 10.0
SPEECH = " ".join(f"word{i}" for i in range(150))  # about 6 s at the service's pace


async def _follow(manager: SessionManager, cid: str, follower: Follower) -> None:
    """Restore the conversation as a tab does, then take every new update (until cancelled)."""
    session = await manager.find_session(cid, owner=OWNER)
    restored = await restore(manager.bus, session, cid)
    follower.take(restored.updates)
    try:
        async for batch in restored.subscription.batches():
            follower.take([u for u in batch if restored.is_new(u)])
    finally:
        restored.subscription.close()


def _replica_lines(follower: Follower) -> list[EventReceived]:
    return [
        u
        for u in follower.updates
        if isinstance(u, EventReceived) and u.event.event_type == "conversation.utterance.streaming"
    ]


async def test_a_tab_on_another_process_drives_the_conversation_and_sees_every_update_once(
    cluster_env: ClusterEnv, tmp_path: Path
) -> None:
    async with (
        spawn_node(cluster_env, tmp_path / "node-a.log", start_for=OWNER) as node_a,
        local_node(cluster_env) as node_b,
        person_in_room(node_b, node_a.conversation_id),
    ):
        cid = node_a.conversation_id
        follower = Follower()
        tab = asyncio.create_task(_follow(node_b, cid, follower))
        try:
            session = await node_b.controls_for(cid, owner=OWNER)
            assert isinstance(session, RemoteSession) and session.holder == node_a.node_id
            with pytest.raises(NotAllowedError):
                await node_b.controls_for(cid, owner="someone else")

            await session.respond("Hello from the other server")
            sent = lambda: [u for u in follower.updates if isinstance(u, InteractionSent)]  # noqa: E731
            await wait_for(
                lambda: any(
                    u.interaction.to_message().get("properties", {}).get("text")
                    == "Hello from the other server"
                    for u in sent()
                ),
                what="the holder to send the routed respond",
            )
            await wait_for(lambda: _replica_lines(follower), what="the replica to answer")

            ids = follower.numbered()
            assert ids == sorted(set(ids)), "every update once, in order"
            assert ids == list(range(ids[0], ids[0] + len(ids))), "no update missing"
        finally:
            tab.cancel()


async def test_killing_the_holder_mid_speech_moves_the_conversation_within_ten_seconds(
    cluster_env: ClusterEnv, tmp_path: Path
) -> None:
    async with (
        spawn_node(cluster_env, tmp_path / "node-a.log", start_for=OWNER) as node_a,
        local_node(cluster_env) as node_b,
        person_in_room(node_b, node_a.conversation_id),
    ):
        cid = node_a.conversation_id
        follower = Follower()
        tab = asyncio.create_task(_follow(node_b, cid, follower))
        try:
            remote = await node_b.controls_for(cid, owner=OWNER)
            await remote.echo(SPEECH)
            await wait_for(lambda: len(_replica_lines(follower)) >= 5, what="the replica to speak")

            node_a.kill()
            killed = time.monotonic()
            await wait_for(
                lambda: node_b.live_session(cid) is not None, what="the takeover", within=15
            )
            took = time.monotonic() - killed
            assert took < TAKEOVER_LIMIT_S, f"the takeover took {took:.1f} s"

            # The tab is told, and the conversation goes on from this process.
            await wait_for(
                lambda: any(
                    isinstance(u, Notice) and u.text == TAKEN_OVER for u in follower.updates
                ),
                what="the tab to be told",
            )
            before = len(_replica_lines(follower))
            here = await node_b.controls_for(cid, owner=OWNER)
            assert not isinstance(here, RemoteSession)
            await here.respond("Are you still there?")
            await wait_for(
                lambda: len(_replica_lines(follower)) > before, what="the replica to answer again"
            )

            # A tab that reconnects through a third process resumes with no gap or repeat.
            seen = follower.numbered()
            other_bus = make_bus(cluster_env.redis.url)
            try:
                restored = await restore(other_bus, None, cid)
                restored.subscription.close()
            finally:
                await other_bus.aclose()
            resumed = [u.update_id for u in restored.updates if u.update_id > seen[-1]]
            assert seen == sorted(set(seen)), "every update once, in order, across the kill"
            assert seen == list(range(seen[0], seen[0] + len(seen))), "no update missing"
            assert not resumed or resumed[0] == seen[-1] + 1

            # The store holds every event the tab saw, each once.
            await here.recorder.flush()
            rows = await run_in_transaction(
                get_engine(),
                lambda s: list_events_before_update(
                    s, conversation_id=cid, before_update_id=None, limit=1000
                ),
            )
            stored = [row.update_id for row in rows]
            assert len(stored) == len(set(stored)), "an event was stored twice"
            shown = {
                u.update_id
                for u in follower.updates
                if isinstance(u, EventReceived | InteractionSent)
            }
            assert shown <= set(stored), f"not stored: {sorted(shown - set(stored))}"
        finally:
            tab.cancel()
