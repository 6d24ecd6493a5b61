"""Sends routed to the process that holds a conversation's session, and their answers.

A tab may be connected to any process, but a conversation's session runs in one (its lease
holder). A send from a tab elsewhere becomes a `SessionCommand` pushed onto the holder's inbox
(a Redis list, `cvi:inbox:<node id>`); the holder runs it on the session, with the same owner
check a local send has, and pushes a `CommandReply` onto the list the command names. The
sender waits for that reply a bounded time; a holder that died meanwhile leaves the sender a
plain sentence, not a hang.

Both models are checked when read (sizes included): an inbox is input from another process.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, Literal, cast

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from redis.asyncio import Redis
from redis.exceptions import RedisError

__all__ = [
    "COMMAND_TIMEOUT_S",
    "MAX_COMMAND_BYTES",
    "CommandChannel",
    "CommandReply",
    "CommandUnanswered",
    "SessionCommand",
]

logger = logging.getLogger(__name__)

MAX_COMMAND_BYTES = 4 * 1024 * 1024
"""The largest command read from an inbox (an audio echo of 60 s of 24 kHz PCM, base64)."""

COMMAND_TIMEOUT_S = 10.0
"""Seconds a sender waits for the holder's answer."""

_REPLY_TTL_S = 60
_INBOX_BLOCK_S = 2

Action = Literal[
    "respond",
    "echo",
    "echo_audio",
    "interrupt",
    "overwrite_context",
    "append_context",
    "sensitivity",
    "tool_result",
    "send",
    "describe",
    "note",
    "close",
]


class SessionCommand(BaseModel):
    """One thing a process asks of the session another process holds."""

    model_config = ConfigDict(extra="forbid")

    request_id: str = Field(min_length=1, max_length=64)
    reply_to: str = Field(min_length=1, max_length=200)
    conversation_id: str = Field(min_length=1, max_length=200)
    owner: str | None = Field(default=None, max_length=200)
    """The browser asking (checked by the holder); None only for the app's own `close`."""
    action: Action
    text: str = Field(default="", max_length=40_000)
    audio_b64: str = Field(default="", max_length=MAX_COMMAND_BYTES)
    sample_rate: int = Field(default=24_000, ge=1, le=192_000)
    pause: str | None = Field(default=None, max_length=20)
    interrupt: str | None = Field(default=None, max_length=20)
    tool_call_id: str = Field(default="", max_length=200)
    status: Literal["success", "error"] = "success"
    interaction: dict[str, Any] | None = None
    actor: str = Field(default="", max_length=254)
    """Who did what `note` tells (an operator's email)."""


class CommandReply(BaseModel):
    """The holder's answer: done, or refused with a sentence for the person who asked."""

    model_config = ConfigDict(extra="forbid")

    ok: bool
    refusal: Literal["not_allowed", "not_here", "refused"] | None = None
    """not_allowed: this browser may not; not_here: the session is not (or no longer) held by
    the process asked; refused: the session refused the send (`message` says why)."""
    message: str = Field(default="", max_length=2_000)
    data: dict[str, Any] = Field(default_factory=dict)


class CommandUnanswered(RuntimeError):
    """The holder did not answer in time (it may have died; another takes over shortly)."""


Handler = Callable[[SessionCommand], Awaitable[CommandReply]]


class CommandChannel:
    """A node's inbox, and the way to ask other nodes.

    Args:
        redis: The cluster's Redis.
        node_id: This process's id (its inbox is `<prefix>inbox:<node id>`).
        timeout_s: Seconds `ask` waits for an answer.
    """

    def __init__(
        self,
        redis: Redis,
        node_id: str,
        *,
        timeout_s: float = COMMAND_TIMEOUT_S,
        key_prefix: str = "cvi:",
    ) -> None:
        self._redis = redis
        self.node_id = node_id
        self.timeout_s = timeout_s
        self._prefix = key_prefix
        self._running: set[asyncio.Task[None]] = set()

    def inbox(self, node_id: str) -> str:
        """The Redis list a node reads its commands from."""
        return f"{self._prefix}inbox:{node_id}"

    async def ask(self, node_id: str, command: dict[str, Any]) -> CommandReply:
        """Send a command to a node's inbox and wait for its reply.

        Args:
            node_id: The node holding the conversation's session.
            command: The command's fields, without `request_id` and `reply_to`.

        Raises:
            CommandUnanswered: No reply within `timeout_s`.
            RedisError: Redis could not be reached.
        """
        request_id = uuid.uuid4().hex
        reply_to = f"{self._prefix}reply:{request_id}"
        message = SessionCommand(request_id=request_id, reply_to=reply_to, **command)
        inbox = self.inbox(node_id)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.rpush(inbox, message.model_dump_json())
            pipe.expire(inbox, _REPLY_TTL_S)
            await pipe.execute()
        answer = await cast(
            "Awaitable[list[bytes] | None]", self._redis.blpop([reply_to], timeout=self.timeout_s)
        )
        if answer is None:
            # Too late to be answered; a later answer expires unread.
            raise CommandUnanswered(f"node {node_id} did not answer {command.get('action')}")
        try:
            return CommandReply.model_validate_json(answer[1])
        except ValidationError as exc:
            raise CommandUnanswered(f"node {node_id} answered something unreadable: {exc}") from exc

    async def serve(self, handler: Handler) -> None:
        """Run every command that reaches this node's inbox, each as its own task (forever).

        Redis failures are retried after a pause; commands that cannot be read are logged and
        dropped (their senders time out).
        """
        inbox = self.inbox(self.node_id)
        while True:
            try:
                item = await cast(
                    "Awaitable[list[bytes] | None]",
                    self._redis.blpop([inbox], timeout=_INBOX_BLOCK_S),
                )
            except RedisError as exc:
                logger.warning("cluster inbox: Redis failed (%s); retrying", exc)
                await asyncio.sleep(1.0)
                continue
            if item is None:
                continue
            data = item[1]
            if len(data) > MAX_COMMAND_BYTES + 4096:
                logger.warning("cluster inbox: a command of %d bytes was dropped", len(data))
                continue
            try:
                command = SessionCommand.model_validate_json(data)
            except ValidationError as exc:
                logger.warning("cluster inbox: an unreadable command was dropped: %s", exc)
                continue
            if not command.reply_to.startswith(f"{self._prefix}reply:"):
                logger.warning("cluster inbox: a command with a foreign reply list was dropped")
                continue
            task = asyncio.get_running_loop().create_task(self._answer(handler, command))
            self._running.add(task)
            task.add_done_callback(self._running.discard)

    async def _answer(self, handler: Handler, command: SessionCommand) -> None:
        try:
            reply = await handler(command)
        except Exception:
            logger.exception(
                "cluster inbox: %s on %s failed", command.action, command.conversation_id
            )
            reply = CommandReply(
                ok=False, refusal="refused", message="Something went wrong; try again."
            )
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.rpush(command.reply_to, reply.model_dump_json())
                pipe.expire(command.reply_to, _REPLY_TTL_S)
                await pipe.execute()
        except RedisError as exc:
            logger.warning("cluster inbox: the answer to %s was lost: %s", command.request_id, exc)
