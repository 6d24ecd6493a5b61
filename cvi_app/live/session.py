"""One live conversation on the backend: the room participant and the coordinator of its parts.

A `ConversationSession` joins the room and wires its parts together:

- `InboundPipeline` (inbound.py): trust check, parse, order, de-duplicate;
- accepted events are numbered, recorded (batched store), handed to the tool calls and
  published to the tabs, with who is speaking (`SpeakingChanged`) when that changes;
- `Outbox` (outbound.py): every send, within the rate limits;
- `ToolCalls` (tool_calls.py): registered tools run, the rest wait for a person;
- `ReplyWatch` and `EmptyRoomWatch` (watch.py): notices when the replica goes quiet, and
  leaving a call every person has left.

Trouble the person should know about is published as a `Notice`: the room connection dropping
and coming back, and the replica not answering a turn within `reply_timeout` seconds.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from typing import Any, Literal

from cvi_app.live.bus import LiveBus
from cvi_app.live.errors import SendRateLimited, SessionEnded, SessionError
from cvi_app.live.inbound import InboundPipeline
from cvi_app.live.outbound import Outbox
from cvi_app.live.presence import Presence
from cvi_app.live.recorder import ConversationRecorder
from cvi_app.live.speaking import SpeakingTracker
from cvi_app.live.summary import LiveSummary, SummaryTracker
from cvi_app.live.tool_calls import ToolCalls
from cvi_app.live.tools import ToolRegistry
from cvi_app.live.updates import (
    EventReceived,
    InteractionSent,
    LiveUpdate,
    Notice,
    OperatorNote,
    SpeakingChanged,
    StatusChanged,
    ToolCallUpdate,
)
from cvi_app.live.watch import EmptyRoomWatch, ReplyWatch
from cvi_app.protocol import (
    Event,
    Interaction,
    SensitivityLevel,
    ShutdownEvent,
    ToolCallEvent,
    append_context,
    overwrite_context,
    respond,
    sensitivity,
    split_echo_audio,
    split_echo_text,
    tool_result,
)
from cvi_app.transport import Participant, RoomTransport

__all__ = [
    "MAX_ECHO_AUDIO_SECONDS",
    "REPLAY_SIZE",
    "ConversationSession",
    "SendRateLimited",
    "SessionEnded",
    "SessionError",
    "SessionStatus",
]

logger = logging.getLogger(__name__)

SessionStatus = Literal["joining", "live", "ended"]

REPLAY_SIZE = 512
"""The latest updates a session keeps in memory, so a tab that (re)starts showing the
conversation reads the store only for what is older (see `cvi_app.live.history.restore`)."""

TAKEN_OVER = "The server running this conversation stopped; another one took over."
"""What the tabs are told, for `TAKEN_OVER_NOTICE_S` seconds, once a session is taken over."""
TAKEN_OVER_NOTICE_S = 8.0
MOVING = "This conversation is moving to another server; it goes on in a few seconds."
"""What the tabs are told when the process running the session stops and hands it off."""

MAX_ECHO_AUDIO_SECONDS = 60.0
"""The longest audio an echo may carry (each of its ~60 ms chunks is one send)."""


class ConversationSession:
    """The backend's participant in one live conversation.

    Args:
        conversation_id: the Tavus conversation this session controls.
        transport: the room connection (Daily, or the sandbox's local room).
        bus: where updates are published for the tabs showing this conversation.
        recorder: where events, sends and tool calls are kept.
        tools: tools answered automatically when the replica calls them.
        send_rate, send_burst: sends a second on average, and at once (every echo chunk
            counts).
        interrupt_rate, interrupt_burst: the same for interrupts, which have their own budget.
        gap_timeout: seconds an early event waits for the ones before it.
        empty_room_grace: seconds the session stays in a call every person has left.
        reply_timeout: seconds a turn (respond, echo) may go without any word from the
            replica before the tabs are told it has not answered.
        on_end: called once with the reason when the session ends (or hands off).
        replay_size: how many of the latest updates are kept for `replay_snapshot`.
        resume_after: the highest update id the tabs may have seen already (a session taken
            over from a process that died); numbering goes on after it and after the store's.

    Every update the session publishes carries an `update_id`, increasing per conversation
    (continuing from the store's highest, so a later session of the same conversation goes on
    counting); events and sends are recorded with the id they are published under.
    """

    def __init__(
        self,
        conversation_id: str,
        transport: RoomTransport,
        *,
        bus: LiveBus[LiveUpdate],
        recorder: ConversationRecorder | None = None,
        tools: ToolRegistry | None = None,
        send_rate: float = 10.0,
        send_burst: int = 20,
        interrupt_rate: float = 2.0,
        interrupt_burst: int = 5,
        gap_timeout: float = 0.05,
        empty_room_grace: float = 15.0,
        reply_timeout: float = 15.0,
        on_end: Callable[[str], Any] | None = None,
        replay_size: int = REPLAY_SIZE,
        resume_after: int = 0,
    ) -> None:
        self.conversation_id = conversation_id
        self.transport = transport
        self.bus = bus
        self.recorder: ConversationRecorder = recorder or ConversationRecorder()
        self.status: SessionStatus = "joining"
        self.end_reason: str | None = None
        self.speaking = SpeakingTracker()
        self._presence = Presence(transport)
        self._inbound = InboundPipeline(
            conversation_id,
            is_replica=transport.is_replica,
            accept=self._accept,
            gap_timeout=gap_timeout,
        )
        self._outbox = Outbox(
            conversation_id,
            transport,
            sent=self._sent,
            ended=lambda: self.ended,
            send_rate=send_rate,
            send_burst=send_burst,
            interrupt_rate=interrupt_rate,
            interrupt_burst=interrupt_burst,
        )
        self.tool_calls = ToolCalls(
            conversation_id,
            tools or ToolRegistry(),
            changed=self._tool_call_changed,
            send=self._outbox.deliver,
            ended=lambda: self.ended,
        )
        self._reply_watch = ReplyWatch(
            conversation_id,
            timeout=reply_timeout,
            notice=lambda text, active: self._notice("replica", text, active=active),
        )
        self._empty_room = EmptyRoomWatch(
            grace=empty_room_grace,
            people=self._people_in_room,
            empty=lambda: asyncio.get_running_loop().create_task(
                self.close("everyone left the call")
            ),
        )
        self._on_end = on_end
        self._closing: asyncio.Task[None] | None = None
        self._last_update_id = 0
        self._resume_after = resume_after
        self._replay: deque[LiveUpdate] = deque(maxlen=replay_size)
        self._summary = SummaryTracker(conversation_id)

    # ---- life -------------------------------------------------------------------------

    async def start(self) -> None:
        """Join the room and start handling its messages."""
        self.transport.on_app_message(self._on_app_message)
        self.transport.on_participant_joined(self._on_participant_joined)
        self.transport.on_participant_left(self._on_participant_left)
        self.transport.on_closed(self._on_room_closed)
        self.transport.on_reconnecting(self._on_reconnecting)
        self.transport.on_reconnected(self._on_reconnected)
        try:
            self._last_update_id = await self.recorder.last_update_id()
        except Exception:
            logger.exception(
                "conversation %s: reading the last update id failed", self.conversation_id
            )
        self._last_update_id = max(self._last_update_id, self._resume_after)
        await self.transport.join()
        self._empty_room.look()
        self._set_status("live")
        self._publish(self._presence.snapshot("connected"))
        if self._resume_after:
            self._notice("connection", TAKEN_OVER)
            asyncio.get_running_loop().call_later(
                TAKEN_OVER_NOTICE_S,
                lambda: self._notice("connection", TAKEN_OVER, active=False),
            )

    @property
    def ended(self) -> bool:
        """Whether the conversation is over for this session."""
        return self.status == "ended"

    @property
    def tools(self) -> ToolRegistry:
        """The tools answered automatically."""
        return self.tool_calls.tools

    @property
    def rejected(self) -> int:
        """How many inbound messages from the replica were refused."""
        return self._inbound.rejected

    @property
    def replica_silent(self) -> bool:
        """Whether the replica has not answered the last turn within `reply_timeout`."""
        return self._reply_watch.silent

    @property
    def reply_timeout(self) -> float:
        """Seconds a turn may go without a word from the replica."""
        return self._reply_watch.timeout

    async def close(self, reason: str) -> None:
        """Leave the room, make everything recorded durable and tell the tabs (idempotent)."""
        if self._closing is None:
            self._closing = asyncio.ensure_future(self._close(reason))
        await asyncio.shield(self._closing)

    async def _close(self, reason: str) -> None:
        self._inbound.release_held()
        self.end_reason = reason
        if self.speaking.silence():
            self._publish(SpeakingChanged(replica=False, user=False))
        self._set_status("ended", reason)
        self._empty_room.stop()
        self._reply_watch.stop()
        self.tool_calls.cancel()
        try:
            await self.transport.leave()
        except Exception:
            logger.exception("conversation %s: leaving the room failed", self.conversation_id)
        self._publish(self._presence.snapshot("left"))
        await self.recorder.flush()
        if self._on_end is not None:
            self._on_end(reason)

    async def hand_off(self, reason: str) -> None:
        """Leave the room without ending the conversation: another process carries it on.

        Everything recorded is made durable first; the tabs are told the conversation is moving
        (the process taking it over tells them when it is back).
        """
        if self._closing is None:
            self._closing = asyncio.ensure_future(self._hand_off(reason))
        await asyncio.shield(self._closing)

    async def _hand_off(self, reason: str) -> None:
        logger.info("conversation %s: handing off (%s)", self.conversation_id, reason)
        self._inbound.release_held()
        self._notice("connection", MOVING)
        self._empty_room.stop()
        self._reply_watch.stop()
        self.tool_calls.cancel()
        self.status = "ended"  # for this process: nothing more is sent from here
        try:
            await self.transport.leave()
        except Exception:
            logger.exception("conversation %s: leaving the room failed", self.conversation_id)
        await self.recorder.flush()
        if self._on_end is not None:
            self._on_end(reason)

    def _set_status(self, status: SessionStatus, reason: str | None = None) -> None:
        self.status = status
        self.recorder.record_status(status, reason)
        self._publish(StatusChanged(status=status, reason=reason))

    # ---- the room -----------------------------------------------------------------------

    async def _on_app_message(self, message: dict[str, Any], sender_id: str) -> None:
        self.handle_app_message(message, sender_id)

    def handle_app_message(self, message: Any, sender_id: str) -> None:
        """Run one inbound app-message through the pipeline (never raises on bad input)."""
        if not self.ended:
            self._inbound.handle(message, sender_id)

    def _accept(self, event: Event) -> None:
        if event.role != "user":
            self._reply_watch.replica_spoke()
        raw = event.to_json()  # once: the store keeps it and the tabs' event logs show it
        update_id = self._next_update_id()
        self.recorder.record_event(event, source="room", raw=raw, update_id=update_id)
        self._publish(EventReceived(event=event, raw=raw, update_id=update_id))
        if self.speaking.apply(event):
            self._publish(SpeakingChanged(replica=self.speaking.replica, user=self.speaking.user))
        if isinstance(event, ToolCallEvent):
            self.tool_calls.start(event)
        elif isinstance(event, ShutdownEvent):
            reason = event.reason or "shutdown"
            asyncio.get_running_loop().create_task(self.close(reason))

    def _people_in_room(self) -> int:
        me = self.transport.local_participant
        return sum(
            1
            for participant in self.transport.participants().values()
            if not participant.is_replica and (me is None or participant.id != me.id)
        )

    async def _on_participant_joined(self, participant: Participant) -> None:
        if not participant.is_replica:
            self._empty_room.person_joined()
        if not self.ended:
            self._publish(self._presence.snapshot())

    async def _on_participant_left(self, participant: Participant) -> None:
        if self.ended:
            return
        self._publish(self._presence.snapshot())
        if participant.is_replica:
            logger.info("conversation %s: the replica left the room", self.conversation_id)
            return
        self._empty_room.person_left()

    async def _on_room_closed(self, reason: str) -> None:
        await self.close(reason)

    async def _on_reconnecting(self, reason: str) -> None:
        if not self.ended:
            self._notice("connection", "The connection to the room was lost; reconnecting…")
            self._publish(self._presence.snapshot("reconnecting"))

    async def _on_reconnected(self, participant: Participant) -> None:
        if not self.ended:
            self._notice("connection", "Reconnected to the room.", active=False)
            self._publish(self._presence.snapshot("connected"))

    # ---- publishing ---------------------------------------------------------------------

    def _notice(
        self, topic: Literal["connection", "replica"], text: str, *, active: bool = True
    ) -> None:
        if not self.ended:
            self._publish(Notice(topic=topic, text=text, active=active))

    def _sent(self, interaction: Interaction) -> None:
        update_id = self._next_update_id()
        self.recorder.record_interaction(interaction, update_id=update_id)
        self._publish(InteractionSent(interaction=interaction, update_id=update_id))

    async def note_operator(self, actor: str, action: str) -> None:
        """Tell every tab on the conversation what an operator did (its Events panel)."""
        if not self.ended:
            self._publish(OperatorNote(actor=actor[:254], action=action[:300]))

    def _tool_call_changed(self, update: ToolCallUpdate) -> None:
        self.recorder.record_tool_call(update)
        self._publish(update)

    def _next_update_id(self) -> int:
        self._last_update_id += 1
        return self._last_update_id

    def _publish(self, update: LiveUpdate) -> None:
        """Number the update (unless numbered already), keep it for replays, hand it out."""
        if not update.update_id:
            update = update.model_copy(update={"update_id": self._next_update_id()})
        self._replay.append(update)
        self._summary.observe(update)
        self.bus.publish(self.conversation_id, update)

    def summary(self) -> LiveSummary:
        """The conversation at a glance, for the console (kept up to date: costs nothing)."""
        return self._summary.summary(
            replica_speaking=self.speaking.replica,
            user_speaking=self.speaking.user,
            replica_silent=self.replica_silent,
        )

    def now(self) -> list[LiveUpdate]:
        """Who is speaking and who is in the call at this moment (unnumbered updates).

        A tab that restores the conversation applies these after the replay: the changes
        themselves may be older than the replay holds.
        """
        speaking = SpeakingChanged(replica=self.speaking.replica, user=self.speaking.user)
        return [speaking, self._presence.snapshot()]

    def replay_snapshot(self) -> list[LiveUpdate]:
        """The latest published updates (at most `replay_size`), oldest first.

        Taken in the same step as a bus subscription (no await between), the snapshot and the
        subscription together hold every update from the snapshot's first one on, each once.
        """
        return list(self._replay)

    # ---- sends --------------------------------------------------------------------------

    async def send(self, interaction: Interaction) -> None:
        """Send one validated interaction into the room, within the send-rate limit."""
        await self._outbox.send(interaction)

    async def respond(self, text: str) -> None:
        """Speak `text` as the user: it goes through the replica's LLM."""
        await self._outbox.send(respond(self.conversation_id, text))
        self._expect_reply()

    async def echo(self, text: str) -> None:
        """Make the replica say `text` verbatim (split over several messages when long)."""
        if await self._outbox.send_chunks(split_echo_text(self.conversation_id, text)):
            self._expect_reply()

    async def echo_audio(self, pcm: bytes, *, sample_rate: int = 24000) -> None:
        """Make the replica speak raw 16-bit mono PCM audio, in chunks under the size limit.

        At most `MAX_ECHO_AUDIO_SECONDS` long; every chunk is one send against the rate limit.
        """
        if sample_rate > 0 and len(pcm) / 2 / sample_rate > MAX_ECHO_AUDIO_SECONDS:
            raise SessionError(
                f"Audio echoes can be at most {MAX_ECHO_AUDIO_SECONDS:g} seconds long."
            )
        chunks = split_echo_audio(self.conversation_id, pcm, sample_rate=sample_rate)
        if await self._outbox.send_chunks(chunks):
            self._expect_reply()

    async def interrupt(self) -> None:
        """Make the replica stop talking, and stop sending an echo still under way."""
        await self._outbox.interrupt()

    async def overwrite_context(self, context: str) -> None:
        """Replace the replica's conversational context."""
        await self._outbox.send(overwrite_context(self.conversation_id, context))

    async def append_context(self, context: str) -> None:
        """Add to the replica's conversational context."""
        await self._outbox.send(append_context(self.conversation_id, context))

    async def set_sensitivity(
        self, *, pause: SensitivityLevel | None = None, interrupt: SensitivityLevel | None = None
    ) -> None:
        """Change turn-taking sensitivity; one message per key, as the protocol requires."""
        for message in sensitivity(self.conversation_id, pause=pause, interrupt=interrupt):
            await self._outbox.send(message)

    async def send_tool_result(
        self,
        tool_call_id: str,
        output: str,
        *,
        status: Literal["success", "error"] = "success",
    ) -> None:
        """Answer a tool call that no registered tool handled; the call is then finished."""
        await self._outbox.send(
            tool_result(self.conversation_id, tool_call_id, output, status=status)
        )
        self.tool_calls.answered(tool_call_id, output, status)

    def _expect_reply(self) -> None:
        if not self.ended:
            self._reply_watch.expect_reply()
