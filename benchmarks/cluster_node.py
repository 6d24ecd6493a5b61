"""One app process for the `cluster` benchmark: `python -m benchmarks.cluster_node`.

It reads its settings from the environment like an app process (`REFLEX_DB_URL`,
`CVI_SANDBOX_URL`, `CVI_SANDBOX_API_KEY`, and `REFLEX_REDIS_URL` for the cluster shape; without
it, the embedded shape with the in-process bus) and runs one `SessionManager`. The benchmark
drives it with one JSON object a line on stdin; it answers one a line on stdout:

- at start: `{"kind": "ready", "node_id", "pid", "rss"}` (`rss` in bytes, every time).
- `{"op": "start", "count": n, "prefix": p}`: starts n conversations one after another, each
  for an owner of its own (`bench-<p>-<i>`: start limits are per browser), saying
  `{"kind": "started", "conversation_id", "owner", "room_url", "meeting_token", "rss"}` as each
  is live (so a person can join before its session leaves the empty call), then
  `{"kind": "done", "op": "start", "rss"}`.
- `{"op": "follow", "conversations": {id: owner}}`: a subscriber per conversation, made as a
  room tab makes it (`restore` with `find_session`: the local session's replay, or in the
  cluster the conversation's stream), which records when each replica event arrives
  (`time.time()`, the replica's `timestamp` being on the same clock). Done once all follow.
- `{"op": "count", "after": {id: seq}}`: `{"received": n}`, the distinct replica events past
  each conversation's `seq` that arrived.
- `{"op": "take", "after": {id: seq}}`: `{"arrivals": {id: [[seq, arrived_ms, stamped_ms],
  ...]}, "held": [ids held here], "lagged": [ids]}`: every arrival past `after`, repeats
  included, in the order they came.
- `{"op": "rss"}`; `{"op": "stop"}`: closes the manager (in the cluster, hands sessions off)
  and exits.

A command that fails answers `{"kind": "error", "op", "message"}`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import psutil

from cvi_app.config import get_settings
from cvi_app.live.bus_factory import configured_redis_url
from cvi_app.live.history import restore
from cvi_app.live.manager import SessionManager, StartOptions
from cvi_app.live.redis_bus import RedisSubscription
from cvi_app.live.updates import EventReceived

logger = logging.getLogger("benchmarks.cluster_node")

EMBEDDED = "embedded"
"""The node id said by a process in the embedded shape (it has no cluster node)."""


def _rss() -> int:
    return int(psutil.Process().memory_info().rss)


def _say(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


@dataclass
class Follower:
    """What one subscriber received: replica events as (seq, arrived ms, stamped ms)."""

    arrivals: list[tuple[int, float, float]] = field(default_factory=list)
    lagged: bool = False


class Node:
    """The process's session manager and the subscribers the benchmark asked for."""

    def __init__(self) -> None:
        self.manager = SessionManager(get_settings(), redis_url=configured_redis_url())
        self.followers: dict[str, Follower] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def node_id(self) -> str:
        return self.manager.cluster.node_id if self.manager.cluster is not None else EMBEDDED

    async def start(self, count: int, prefix: str) -> dict[str, Any]:
        options = StartOptions(participant_absent_timeout=600, max_call_duration=3600)
        for i in range(count):
            owner = f"bench-{prefix}-{i}"
            conversation = await self.manager.start_conversation(owner=owner, options=options)
            _say(
                {
                    "kind": "started",
                    "conversation_id": conversation.conversation_id,
                    "owner": owner,
                    "room_url": conversation.conversation_url,
                    "meeting_token": conversation.meeting_token,
                    "rss": _rss(),
                }
            )
        return {}

    async def follow(self, conversations: dict[str, str]) -> dict[str, Any]:
        ready = [self._follow(cid, owner) for cid, owner in conversations.items()]
        await asyncio.gather(*ready)
        return {}

    async def _follow(self, cid: str, owner: str) -> None:
        session = await self.manager.find_session(cid, owner=owner)
        restored = await restore(self.manager.bus, session, cid)
        subscription = restored.subscription
        if isinstance(subscription, RedisSubscription):
            await subscription.ready()
        follower = self.followers[cid] = Follower()
        task = asyncio.get_running_loop().create_task(self._take(subscription, follower))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @staticmethod
    async def _take(subscription: Any, follower: Follower) -> None:
        try:
            async for batch in subscription.batches():
                now = time.time() * 1000
                for update in batch:
                    event = update.event if isinstance(update, EventReceived) else None
                    if event is not None and event.seq is not None and event.timestamp:
                        follower.arrivals.append((event.seq, now, event.timestamp * 1000))
                if subscription.lagged:
                    follower.lagged = True
        finally:
            subscription.close()

    def count(self, after: dict[str, int]) -> dict[str, Any]:
        received = 0
        for cid, follower in self.followers.items():
            floor = after.get(cid, 0)
            received += len({seq for seq, _, _ in follower.arrivals if seq > floor})
        return {"received": received}

    def take(self, after: dict[str, int]) -> dict[str, Any]:
        arrivals = {
            cid: [list(a) for a in follower.arrivals if a[0] > after.get(cid, 0)]
            for cid, follower in self.followers.items()
        }
        return {
            "arrivals": arrivals,
            "held": self.manager.held_conversations(),
            "lagged": [cid for cid, f in self.followers.items() if f.lagged],
        }

    async def run(self, command: dict[str, Any]) -> dict[str, Any]:
        op = command.get("op")
        if op == "start":
            return await self.start(int(command["count"]), str(command["prefix"]))
        if op == "follow":
            return await self.follow(dict(command["conversations"]))
        if op == "count":
            return self.count(dict(command.get("after", {})))
        if op == "take":
            return self.take(dict(command.get("after", {})))
        if op == "rss":
            return {}
        raise ValueError(f"unknown op {op!r}")


async def main() -> None:
    """Run the manager and answer the benchmark's commands until told to stop."""
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    node = Node()
    await node.manager.start()
    _say({"kind": "ready", "node_id": node.node_id, "pid": os.getpid(), "rss": _rss()})
    while True:
        line = await asyncio.to_thread(sys.stdin.readline)
        if not line:
            break  # the benchmark went away
        command = json.loads(line)
        if command.get("op") == "stop":
            break
        try:
            answer = await node.run(command)
        except Exception as exc:
            logger.exception("command %s failed", command.get("op"))
            _say({"kind": "error", "op": command.get("op"), "message": f"{exc!r}"})
            continue
        _say({"kind": "done", "op": command.get("op"), "rss": _rss(), **answer})
    await node.manager.aclose()
    _say({"kind": "done", "op": "stop", "rss": _rss()})


if __name__ == "__main__":
    asyncio.run(main())
