"""Redis lost mid-conversation (restarted without its data): the app says so, goes on recording
into the store, and recovers (leases, live updates) once Redis is back."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from cvi_app.live.history import restore
from cvi_app.live.manager import StartOptions
from cvi_app.live.updates import EventReceived
from cvi_app.store.db import get_engine, run_in_transaction
from cvi_app.store.events import list_events_before_update
from tests.cluster.nodes import OWNER, ClusterEnv, cluster_env, local_node, person_in_room
from tests.support.servers import wait_for

__all__ = ["cluster_env"]

pytestmark = pytest.mark.timeout(180)

SPEECH = " ".join(f"word{i}" for i in range(120))


async def test_a_redis_restart_is_reported_and_nothing_that_reached_the_store_is_lost(
    cluster_env: ClusterEnv, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    redis = cluster_env.redis
    async with local_node(cluster_env) as node:
        assert node.cluster is not None
        started = await node.start_conversation(
            owner=OWNER, options=StartOptions(participant_absent_timeout=600)
        )
        cid = started.conversation_id
        async with person_in_room(node, cid) as person:
            session = node.session_for(cid, owner=OWNER)
            await session.echo(SPEECH)
            await wait_for(lambda: len(person.heard_from_replica) >= 5, what="the replica to speak")

            redis.stop(keep_data=False)
            try:
                await wait_for(lambda: node.bus.outage is not None, what="the outage to be seen")
                assert any("Redis is failing" in r.getMessage() for r in caplog.records)
                await asyncio.sleep(1.5)  # the replica keeps speaking meanwhile
            finally:
                redis.start()

            await wait_for(lambda: node.bus.outage is None, what="the bus to recover", within=20)
            await wait_for(
                lambda: redis.client().get(node.cluster.leases.key(cid)) is not None,
                what="the lease to be taken again",
            )
            assert (await node.cluster.leases.holder(cid)) == node.cluster.node_id
            assert node.live_session(cid) is session, "the session went on"

            # Every replica message the person heard during and around the outage is stored.
            await wait_for(lambda: len(person.heard_from_replica) >= 20, what="more of the speech")
            heard = len(person.heard_from_replica)
            await session.recorder.flush()
            rows = await run_in_transaction(
                get_engine(),
                lambda s: list_events_before_update(
                    s, conversation_id=cid, before_update_id=None, limit=1000
                ),
            )
            from_replica = [row for row in rows if row.source == "room"]
            assert len(from_replica) >= heard
            stored = [row.update_id for row in rows]
            assert len(stored) == len(set(stored))

            # A tab that opens the room now sees the latest events, in order.
            restored = await restore(node.bus, node.live_session(cid), cid)
            restored.subscription.close()
            events = [u.update_id for u in restored.updates if isinstance(u, EventReceived)]
            assert events == sorted(events) and events[-1] >= max(
                row.update_id or 0 for row in from_replica
            )
