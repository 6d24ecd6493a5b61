"""What a ConversationSession keeps: `ConversationRecorder` (keeps nothing) and `StoreRecorder`.

`StoreRecorder` writes to the store off the event path.

Events and sent interactions go through the store's batched `EventWriter`; tool calls and status
changes are rare and written in their own small transactions, in order, by one background task.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable

from sqlalchemy.engine import Engine
from sqlmodel import Session

from cvi_app.live.updates import ToolCallUpdate
from cvi_app.protocol import Event, Interaction
from cvi_app.store.conversations import update_conversation_status
from cvi_app.store.db import run_in_transaction
from cvi_app.store.events import last_update_id
from cvi_app.store.from_protocol import new_event_from_interaction, new_event_from_protocol
from cvi_app.store.models import ToolCallCreate
from cvi_app.store.tool_calls import finish_tool_call, record_tool_call
from cvi_app.store.writer import EventWriter

logger = logging.getLogger(__name__)

StoreWork = Callable[[Session], object]


class ConversationRecorder:
    """Where a session keeps what happened; this base keeps nothing (sessions nobody records).

    `StoreRecorder` keeps everything in the store. Calls must not block.
    """

    def record_event(
        self,
        event: Event,
        *,
        source: str,
        raw: str | None = None,
        update_id: int | None = None,
    ) -> None:
        """Keep an inbound event (`raw`: its JSON, when the caller already made it).

        `update_id` is the number of the update the session publishes it as.
        """

    def record_interaction(self, interaction: Interaction, *, update_id: int | None = None) -> None:
        """Keep an interaction the app sent (published as update `update_id`)."""

    def record_tool_call(self, update: ToolCallUpdate) -> None:
        """Keep a tool call's progress."""

    def record_status(self, status: str, reason: str | None) -> None:
        """Keep the conversation's status."""

    async def flush(self) -> None:
        """Return once everything recorded so far is durable."""

    async def last_update_id(self) -> int:
        """The highest update id recorded for the conversation so far (0 when none)."""
        return 0


class StoreRecorder(ConversationRecorder):
    """Records one conversation into the store (shares the process's `EventWriter`)."""

    def __init__(self, conversation_id: str, *, engine: Engine, writer: EventWriter) -> None:
        self.conversation_id = conversation_id
        self._engine = engine
        self._writer = writer
        self._work: asyncio.Queue[StoreWork] = asyncio.Queue()
        self._worker: asyncio.Task[None] | None = None

    def record_event(
        self,
        event: Event,
        *,
        source: str,
        raw: str | None = None,
        update_id: int | None = None,
    ) -> None:
        """Queue an inbound event for the next batched write."""
        self._writer.submit(
            new_event_from_protocol(
                event,
                source="webhook" if source == "webhook" else "room",
                raw=raw,
                conversation_id=self.conversation_id,
                update_id=update_id,
            )
        )

    def record_interaction(self, interaction: Interaction, *, update_id: int | None = None) -> None:
        """Queue a sent interaction for the next batched write."""
        self._writer.submit(new_event_from_interaction(interaction, update_id=update_id))

    def record_tool_call(self, update: ToolCallUpdate) -> None:
        """Store a tool call when asked, and its result when it finishes."""
        cid = self.conversation_id
        if update.status in ("pending", "unhandled"):
            call = ToolCallCreate(
                conversation_id=cid,
                tool_call_id=update.tool_call_id,
                name=update.name,
                arguments=json.dumps(update.arguments, ensure_ascii=False),
            )
            self._queue(lambda s: record_tool_call(s, call=call))
        elif update.status in ("success", "error"):
            result, status = update.output or "", update.status
            self._queue(
                lambda s: finish_tool_call(
                    s,
                    conversation_id=cid,
                    tool_call_id=update.tool_call_id,
                    result=result,
                    status=status,
                )
            )

    def record_status(self, status: str, reason: str | None) -> None:
        """Store that the conversation ended (and why)."""
        if status != "ended":
            return
        cid = self.conversation_id
        self._queue(
            lambda s: update_conversation_status(
                s, conversation_id=cid, status="ended", shutdown_reason=reason
            )
        )

    async def flush(self) -> None:
        """Return once everything recorded so far is committed."""
        await self._writer.flush()
        await self._work.join()

    async def last_update_id(self) -> int:
        """The highest update id stored for the conversation (0 when none)."""
        cid = self.conversation_id
        return await run_in_transaction(
            self._engine, lambda s: last_update_id(s, conversation_id=cid)
        )

    def _queue(self, work: StoreWork) -> None:
        self._work.put_nowait(work)
        if self._worker is None or self._worker.done():
            self._worker = asyncio.get_running_loop().create_task(self._drain())

    async def _drain(self) -> None:
        while not self._work.empty():
            work = await self._work.get()
            try:
                await run_in_transaction(self._engine, work)
            except Exception:
                logger.exception("conversation %s: store write failed", self.conversation_id)
            finally:
                self._work.task_done()
