"""One cluster node in its own process, for the cluster tests: `python -m tests.cluster.node_process`.

It reads its settings from the environment like an app process (`REFLEX_REDIS_URL`,
`REFLEX_DB_URL`, `CVI_SANDBOX_URL`, `CVI_SANDBOX_API_KEY`), joins the cluster and, when
`CVI_TEST_START_OWNER` is set, starts one conversation for that owner. It prints one JSON line,
`{"node_id": ..., "conversation_id": ...}`, and then runs until it is killed.
"""

from __future__ import annotations

import asyncio
import json
import os

from cvi_app.config import get_settings
from cvi_app.live.bus_factory import configured_redis_url
from cvi_app.live.manager import SessionManager, StartOptions


async def main() -> None:
    """Join the cluster, start the conversation asked for, say so, and wait."""
    manager = SessionManager(get_settings(), redis_url=configured_redis_url())
    await manager.start()
    assert manager.cluster is not None, "REFLEX_REDIS_URL is required"
    cid = ""
    owner = os.environ.get("CVI_TEST_START_OWNER")
    if owner:
        conversation = await manager.start_conversation(
            owner=owner, options=StartOptions(participant_absent_timeout=600)
        )
        cid = conversation.conversation_id
    print(json.dumps({"node_id": manager.cluster.node_id, "conversation_id": cid}), flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main())
