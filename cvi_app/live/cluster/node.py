"""`ClusterNode`: one process's part in the cluster (leases, routed sends, takeover).

The session manager makes one when Redis is configured and gives it what it needs to know of
the sessions (`SessionHost`); the node then keeps this process's leases renewed (and its
sessions' summaries written), answers the commands other processes route here, and takes over
the sessions nobody holds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from typing import Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

from cvi_app.live.cluster.commands import CommandChannel, CommandReply, SessionCommand
from cvi_app.live.cluster.leases import DEFAULT_LEASE_TTL_S, LeaseTable
from cvi_app.live.cluster.remote import RemoteSession
from cvi_app.live.cluster.summaries import SummaryBoard
from cvi_app.live.cluster.takeover import TakeoverWatch
from cvi_app.live.summary import LiveSummary

__all__ = ["ClusterNode", "SessionHost"]

logger = logging.getLogger(__name__)


class SessionHost(Protocol):
    """What the node needs of the process's session manager."""

    def held_conversations(self) -> list[str]:
        """The conversations whose sessions run in this process."""
        ...

    async def active_conversations(self) -> list[str]:
        """The conversations the store records active in this mode."""
        ...

    async def step_down(self, conversation_id: str) -> None:
        """Leave a session another process now holds (without ending the conversation)."""
        ...

    async def take_over(self, conversation_id: str) -> None:
        """Rejoin a conversation whose lease this process has just taken."""
        ...

    async def run_command(self, command: SessionCommand) -> CommandReply:
        """Run a command another process routed to a session held here."""
        ...

    def summaries(self) -> list[LiveSummary]:
        """The sessions held here at a glance (for the console on every process)."""
        ...


class ClusterNode:
    """One process of the cluster: its leases, its inbox and its takeover watch.

    Args:
        redis_url: The cluster's Redis (`REFLEX_REDIS_URL`).
        lease_ttl_s: Seconds a lease lasts unless renewed (renewed every quarter of that).
        takeover_grace_s: Seconds a lease must stay free before another process takes it.
        command_timeout_s: Seconds a routed send waits for the holder's answer.
    """

    def __init__(
        self,
        redis_url: str,
        *,
        lease_ttl_s: float = DEFAULT_LEASE_TTL_S,
        takeover_grace_s: float = 1.5,
        takeover_interval_s: float = 0.5,
        command_timeout_s: float = 10.0,
    ) -> None:
        self.node_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._redis: Redis = Redis.from_url(redis_url, socket_connect_timeout=5.0)
        self.leases = LeaseTable(self._redis, self.node_id, ttl_s=lease_ttl_s)
        self.commands = CommandChannel(self._redis, self.node_id, timeout_s=command_timeout_s)
        self.summary_board = SummaryBoard(self._redis)
        self._renew_every_s = lease_ttl_s / 4
        self._takeover_grace_s = takeover_grace_s
        self._takeover_interval_s = takeover_interval_s
        self._tasks: list[asyncio.Task[None]] = []
        self._redis_failing = False
        self._watch: TakeoverWatch | None = None

    def start(self, host: SessionHost) -> None:
        """Start keeping leases, answering commands and taking over (needs a running loop)."""
        if self._tasks:
            return
        self._watch = watch = TakeoverWatch(
            self.leases,
            active=host.active_conversations,
            is_local=lambda cid: cid in host.held_conversations(),
            take_over=host.take_over,
            interval_s=self._takeover_interval_s,
            grace_s=self._takeover_grace_s,
        )
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._keep_leases(host), name="cluster-leases"),
            loop.create_task(self.commands.serve(host.run_command), name="cluster-inbox"),
            loop.create_task(watch.run(), name="cluster-takeover"),
        ]
        logger.info("cluster: this process is node %s", self.node_id)

    async def acquire(self, conversation_id: str) -> bool:
        """Take a conversation's lease for a session this process is about to run."""
        return await self.leases.acquire(conversation_id)

    async def release(self, conversation_id: str) -> None:
        """Give up a lease (the session here has ended or stepped down); never raises."""
        try:
            await self.leases.release(conversation_id)
        except RedisError as exc:
            logger.warning("cluster: releasing %s failed: %s", conversation_id, exc)

    async def remote(self, conversation_id: str, *, owner: str | None) -> RemoteSession | None:
        """The session of a conversation another process holds, or None when nobody does."""
        holder = await self.leases.holder(conversation_id)
        if holder is None or holder == self.node_id:
            return None
        return RemoteSession(self.commands, conversation_id, holder, owner=owner)

    async def aclose(self) -> None:
        """Stop the node's tasks and close its Redis connections."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks = []
        await self._redis.aclose()

    async def _keep_leases(self, host: SessionHost) -> None:
        while True:
            await asyncio.sleep(self._renew_every_s)
            try:
                taking = self._watch.taking if self._watch else set()
                lost = await self.leases.renew([*host.held_conversations(), *taking])
            except RedisError as exc:
                if not self._redis_failing:
                    logger.warning("cluster: leases cannot be renewed (%s); retrying", exc)
                self._redis_failing = True
                continue
            if self._redis_failing:
                logger.warning("cluster: leases renewed again")
                self._redis_failing = False
            try:
                await self.summary_board.publish(host.summaries())
            except RedisError as exc:
                logger.info("cluster: summaries not written (%s)", exc)
            for cid in lost:
                logger.warning("cluster: %s is held by another process now; stepping down", cid)
                try:
                    await host.step_down(cid)
                except Exception:
                    logger.exception("cluster: stepping down from %s failed", cid)
