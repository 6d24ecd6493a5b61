"""A conversation's tool calls: run the registered tools, keep the rest for a person to answer.

A call the registry knows runs in its own task and its result is sent back to the replica; any
other call waits (`unhandled`) until a person answers it from the room. Every step is recorded
and published as a `ToolCallUpdate`.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Literal

from cvi_app.live.errors import SessionError
from cvi_app.live.tools import ToolRegistry
from cvi_app.live.updates import ToolCallUpdate, utc_now
from cvi_app.protocol import Interaction, ProtocolError, ToolCallEvent, tool_result

__all__ = ["MAX_UNANSWERED", "ToolCalls"]

logger = logging.getLogger(__name__)

MAX_UNANSWERED = 64
"""Tool calls waiting for a person's answer that a session remembers (the oldest are dropped)."""


class ToolCalls:
    """One conversation's tool calls in progress.

    Args:
        conversation_id: the conversation the calls come from.
        tools: the tools answered automatically.
        changed: called with each step of a call (to record and publish it).
        send: sends a tool result into the room (no rate limit: the replica asked for it).
        ended: whether the conversation is over.
    """

    def __init__(
        self,
        conversation_id: str,
        tools: ToolRegistry,
        *,
        changed: Callable[[ToolCallUpdate], None],
        send: Callable[[Interaction], Awaitable[None]],
        ended: Callable[[], bool],
    ) -> None:
        self.conversation_id = conversation_id
        self.tools = tools
        self._changed = changed
        self._send = send
        self._ended = ended
        self._tasks: set[asyncio.Task[None]] = set()
        self._unanswered: dict[str, ToolCallUpdate] = {}

    def start(self, event: ToolCallEvent) -> None:
        """A tool call arrived: run its tool, or keep it for a person to answer."""
        props = event.properties
        call_id = props.tool_call_id or event.inference_id or uuid.uuid4().hex
        known = props.name in self.tools
        pending = ToolCallUpdate(
            tool_call_id=call_id,
            name=props.name,
            arguments=props.arguments,
            status="pending" if known else "unhandled",
        )
        self._changed(pending)
        if not known:
            self._unanswered[call_id] = pending
            while len(self._unanswered) > MAX_UNANSWERED:
                self._unanswered.pop(next(iter(self._unanswered)))
            return
        task = asyncio.get_running_loop().create_task(self._run(pending))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def answered(self, tool_call_id: str, output: str, status: Literal["success", "error"]) -> None:
        """A person's answer to a waiting call was sent: the call is finished."""
        call = self._unanswered.pop(tool_call_id, None)
        if call is not None:
            waited_ms = (utc_now() - call.at).total_seconds() * 1000
            self._changed(
                call.model_copy(
                    update={"status": status, "output": output, "latency_ms": waited_ms}
                )
            )

    def cancel(self) -> None:
        """Stop every tool still running (the conversation ended)."""
        for task in list(self._tasks):
            task.cancel()

    async def _run(self, call: ToolCallUpdate) -> None:
        outcome = await self.tools.run(call.name, call.arguments)
        status, output = outcome.status, outcome.output
        try:
            result = tool_result(self.conversation_id, call.tool_call_id, output, status=status)
        except ProtocolError as exc:
            # Usually an output over the 4 KB app-message limit: the replica still hears back.
            status, output = "error", f"the result of tool {call.name!r} could not be sent: {exc}"
            try:
                result = tool_result(self.conversation_id, call.tool_call_id, output, status=status)
            except ProtocolError:
                result = None
        self._changed(
            call.model_copy(
                update={"status": status, "output": output, "latency_ms": outcome.latency_ms}
            )
        )
        if result is None:
            logger.warning(
                "conversation %s: no result can be sent for tool call %r",
                self.conversation_id,
                call.tool_call_id,
            )
            return
        if self._ended():
            return
        try:
            await self._send(result)
        except (ProtocolError, SessionError) as exc:
            logger.warning("conversation %s: tool result not sent: %s", self.conversation_id, exc)
