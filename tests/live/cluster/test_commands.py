"""Routed sends over a real Redis: a command reaches the holder's inbox and its answer comes
back; what cannot be read is dropped, and a holder that does not answer leaves a plain refusal."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from redis.asyncio import Redis

from cvi_app.live.cluster.commands import CommandChannel, CommandReply, SessionCommand
from cvi_app.live.cluster.remote import HOLDER_UNAVAILABLE, RemoteSession
from cvi_app.live.errors import NotAllowedError, SessionError


@pytest.fixture
def prefix() -> str:
    return f"test-{uuid.uuid4().hex[:8]}:"


async def test_a_command_reaches_the_holder_and_its_answer_comes_back(
    redis: Redis, prefix: str
) -> None:
    seen: list[SessionCommand] = []

    async def holder(command: SessionCommand) -> CommandReply:
        seen.append(command)
        if command.owner != "the owner":
            return CommandReply(ok=False, refusal="not_allowed")
        if command.text == "too fast":
            return CommandReply(ok=False, refusal="refused", message="Slow down a little.")
        return CommandReply(ok=True)

    serving = CommandChannel(redis, "holder", key_prefix=prefix)
    task = asyncio.create_task(serving.serve(holder))
    try:
        asking = CommandChannel(redis, "asker", key_prefix=prefix, timeout_s=5)
        remote = RemoteSession(asking, "c1", "holder", owner="the owner")
        await remote.respond("hello")
        assert seen[-1].action == "respond" and seen[-1].text == "hello"
        with pytest.raises(SessionError, match="Slow down a little."):
            await remote.echo("too fast")
        stranger = RemoteSession(asking, "c1", "holder", owner="someone else")
        with pytest.raises(NotAllowedError):
            await stranger.interrupt()
    finally:
        task.cancel()


async def test_a_holder_that_does_not_answer_leaves_a_plain_refusal(
    redis: Redis, prefix: str
) -> None:
    asking = CommandChannel(redis, "asker", key_prefix=prefix, timeout_s=0.3)
    remote = RemoteSession(asking, "c1", "a-dead-node", owner="the owner")
    with pytest.raises(SessionError) as refused:
        await remote.respond("hello")
    assert str(refused.value) == HOLDER_UNAVAILABLE


async def test_unreadable_or_misdirected_commands_are_dropped(redis: Redis, prefix: str) -> None:
    handled: list[SessionCommand] = []

    async def holder(command: SessionCommand) -> CommandReply:
        handled.append(command)
        return CommandReply(ok=True)

    serving = CommandChannel(redis, "holder", key_prefix=prefix)
    inbox = serving.inbox("holder")
    await redis.rpush(inbox, b"not json")
    await redis.rpush(inbox, b'{"action": "respond"}')
    foreign = SessionCommand(
        request_id="r1", reply_to="somewhere:else", conversation_id="c1", owner="o", action="echo"
    )
    await redis.rpush(inbox, foreign.model_dump_json())
    task = asyncio.create_task(serving.serve(holder))
    try:
        asking = CommandChannel(redis, "asker", key_prefix=prefix, timeout_s=5)
        await RemoteSession(asking, "c1", "holder", owner="o").interrupt()
        assert [c.action for c in handled] == ["interrupt"]
        assert await redis.llen(inbox) == 0
        assert await redis.exists("somewhere:else") == 0
    finally:
        task.cancel()
