"""One live conversation on the backend: the room participant, inbound checks, outbound sends.

Inbound, every app-message goes through one pipeline, in arrival order and without awaiting:

    trust check -> parse -> order by seq / drop repeats -> drop pal/replica twins
    -> record (batched store) -> tools -> publish to the tabs

Outbound, every interaction is a typed, validated model; long echoes are split to fit Daily's
4 KB app-message limit, and sends are rate limited per session.

Trouble the person should know about is published as a `Notice`: the room connection dropping
and coming back, and the replica not answering a turn within `reply_timeout` seconds.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import deque
from collections.abc import Callable
from typing import Any, Literal, Protocol

from cvi_app.live.bus import EventBus
from cvi_app.live.ordering import SeqOrderer
from cvi_app.live.tools import ToolRegistry
from cvi_app.live.updates import (
    EventReceived,
    InteractionSent,
    LiveUpdate,
    Notice,
    StatusChanged,
    ToolCallUpdate,
    utc_now,
)
from cvi_app.protocol import (
    EchoInteraction,
    Event,
    Interaction,
    ProtocolError,
    ReplicaStartedSpeakingEvent,
    ReplicaStoppedSpeakingEvent,
    SensitivityLevel,
    ShutdownEvent,
    StartedSpeakingEvent,
    StoppedSpeakingEvent,
    ToolCallEvent,
    TwinFilter,
    UserStartedSpeakingEvent,
    UserStoppedSpeakingEvent,
    append_context,
    interrupt,
    overwrite_context,
    parse_event,
    respond,
    sensitivity,
    split_echo_audio,
    split_echo_text,
    tool_result,
)
from cvi_app.transport import Participant, RoomTransport

logger = logging.getLogger(__name__)

SessionStatus = Literal["joining", "live", "ended"]

# Tool calls waiting for a person's answer that the session remembers (the oldest are dropped).
_MAX_UNANSWERED = 64

# The latest updates a session keeps in memory, so a tab that (re)starts showing the
# conversation reads the store only for what is older (see `cvi_app.live.history.restore`).
REPLAY_SIZE = 512

# The longest audio an echo may carry (each of its ~60 ms chunks is one send).
MAX_ECHO_AUDIO_SECONDS = 60.0


class SessionError(RuntimeError):
    """A send the session refuses; the message is meant for the person who tried it."""


class SessionEnded(SessionError):
    """The conversation is over: nothing more can be sent."""


class SendRateLimited(SessionError):
    """Too many sends in a short time."""


class ConversationRecorder(Protocol):
    """Where a session keeps what happened (the store, batched). Calls must not block."""

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


class NullRecorder:
    """A recorder that keeps nothing (for sessions nobody needs to remember)."""

    def record_event(  # noqa: D102
        self,
        event: Event,
        *,
        source: str,
        raw: str | None = None,
        update_id: int | None = None,
    ) -> None:
        pass

    def record_interaction(  # noqa: D102
        self, interaction: Interaction, *, update_id: int | None = None
    ) -> None:
        pass

    def record_tool_call(self, update: ToolCallUpdate) -> None:  # noqa: D102
        pass

    def record_status(self, status: str, reason: str | None) -> None:  # noqa: D102
        pass

    async def flush(self) -> None:  # noqa: D102
        pass

    async def last_update_id(self) -> int:  # noqa: D102
        return 0


class TokenBucket:
    """At most `rate` sends a second on average, bursts of up to `burst`."""

    def __init__(
        self, *, rate: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._tokens = float(burst)
        self._updated = clock()

    def take(self) -> bool:
        """Use one token if there is one."""
        self._refill()
        if self._tokens >= 1:
            self._tokens -= 1
            return True
        return False

    async def acquire(self) -> None:
        """Use one token, waiting for one when there is none (paces a long run of sends)."""
        self._refill()
        if self._tokens < 1:
            await asyncio.sleep((1 - self._tokens) / self.rate)
            self._refill()
        # Taken even when the clock fell a hair short: the wait was for exactly one token.
        self._tokens = max(0.0, self._tokens - 1)

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
        self._updated = now


class SpeakingState:
    """Who is speaking now, from the speaking events (older and newer forms)."""

    def __init__(self) -> None:
        self.replica = False
        self.user = False

    def apply(self, event: Event) -> bool:
        """Update from one event; return whether anything changed."""
        before = (self.replica, self.user)
        match event:
            case ReplicaStartedSpeakingEvent():
                self.replica = True
            case ReplicaStoppedSpeakingEvent():
                self.replica = False
            case UserStartedSpeakingEvent():
                self.user = True
            case UserStoppedSpeakingEvent():
                self.user = False
            case StartedSpeakingEvent() | StoppedSpeakingEvent():
                speaking = isinstance(event, StartedSpeakingEvent)
                if event.properties.role == "user":
                    self.user = speaking
                else:
                    self.replica = speaking
        return before != (self.replica, self.user)


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
        reply_timeout: seconds a turn (respond, echo) may go without any word from the
            replica before the tabs are told it has not answered.
        on_end: called once with the reason when the session ends.
        replay_size: how many of the latest updates are kept for `replay_snapshot`.

    Every update the session publishes carries an `update_id`, increasing per conversation
    (continuing from the store's highest, so a later session of the same conversation goes on
    counting); events and sends are recorded with the id they are published under.
    """

    def __init__(
        self,
        conversation_id: str,
        transport: RoomTransport,
        *,
        bus: EventBus[LiveUpdate],
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
    ) -> None:
        self.conversation_id = conversation_id
        self.transport = transport
        self.bus = bus
        self.recorder: ConversationRecorder = recorder or NullRecorder()
        self.tools = tools or ToolRegistry()
        self.status: SessionStatus = "joining"
        self.end_reason: str | None = None
        self.speaking = SpeakingState()
        self.rejected = 0
        self._orderer = SeqOrderer(gap_timeout=gap_timeout)
        self._twins = TwinFilter()
        self._limiter = TokenBucket(rate=send_rate, burst=send_burst)
        # Interrupts have their own small budget: a long, paced echo must never keep a person
        # from stopping the replica.
        self._interrupt_limiter = TokenBucket(rate=interrupt_rate, burst=interrupt_burst)
        self._echo_generation = 0
        self._gap_timer: asyncio.TimerHandle | None = None
        self._tool_tasks: set[asyncio.Task[None]] = set()
        self._on_end = on_end
        self._closing: asyncio.Task[None] | None = None
        self._empty_room_grace = empty_room_grace
        self._empty_room_timer: asyncio.TimerHandle | None = None
        self._people_seen = False
        self._unanswered: dict[str, ToolCallUpdate] = {}
        self.reply_timeout = reply_timeout
        self.replica_silent = False
        self._reply_timer: asyncio.TimerHandle | None = None
        self._last_update_id = 0
        self._replay: deque[LiveUpdate] = deque(maxlen=replay_size)

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
        await self.transport.join()
        self._people_seen = self._people_in_room() > 0
        self._set_status("live")

    @property
    def ended(self) -> bool:
        """Whether the conversation is over for this session."""
        return self.status == "ended"

    async def close(self, reason: str) -> None:
        """Leave the room, make everything recorded durable and tell the tabs (idempotent)."""
        if self._closing is None:
            self._closing = asyncio.ensure_future(self._close(reason))
        await asyncio.shield(self._closing)

    async def _close(self, reason: str) -> None:
        self._release_held()
        self.end_reason = reason
        self._set_status("ended", reason)
        if self._empty_room_timer is not None:
            self._empty_room_timer.cancel()
        self._disarm_reply_timer()
        for task in list(self._tool_tasks):
            task.cancel()
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

    # ---- inbound ----------------------------------------------------------------------

    async def _on_app_message(self, message: dict[str, Any], sender_id: str) -> None:
        self.handle_app_message(message, sender_id)

    def handle_app_message(self, message: Any, sender_id: str) -> None:
        """Run one inbound app-message through the pipeline (never raises on bad input)."""
        if self.ended:
            return
        if not self.transport.is_replica(sender_id):
            # Browsers and other participants talk in the room too; only the replica speaks
            # for Tavus. Their messages are not events.
            logger.debug(
                "conversation %s: ignored message from %s", self.conversation_id, sender_id
            )
            return
        try:
            event = parse_event(message)
        except ProtocolError as exc:
            self.rejected += 1
            logger.warning(
                "conversation %s: rejected event from replica: %s", self.conversation_id, exc
            )
            return
        if event.conversation_id not in (None, "", self.conversation_id):
            self.rejected += 1
            logger.warning(
                "conversation %s: rejected event for another conversation %r",
                self.conversation_id,
                event.conversation_id,
            )
            return
        for ready in self._orderer.push(event):
            self._accept(ready)
        self._arm_gap_timer()

    def _arm_gap_timer(self) -> None:
        if self._orderer.holding and self._gap_timer is None:
            loop = asyncio.get_running_loop()
            self._gap_timer = loop.call_later(self._orderer.gap_timeout, self._release_held)

    def _release_held(self) -> None:
        self._gap_timer = None
        for event in self._orderer.release_all():
            self._accept(event)

    def _accept(self, event: Event) -> None:
        if not self._twins.admit(event):
            return
        if event.role != "user":
            self._replica_answered()
        self.speaking.apply(event)
        raw = event.to_json()  # once: the store keeps it and the tabs' event logs show it
        update_id = self._next_update_id()
        self.recorder.record_event(event, source="room", raw=raw, update_id=update_id)
        self._publish(EventReceived(event=event, raw=raw, update_id=update_id))
        if isinstance(event, ToolCallEvent):
            self._start_tool_call(event)
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
            self._people_seen = True
            if self._empty_room_timer is not None:
                self._empty_room_timer.cancel()
                self._empty_room_timer = None

    async def _on_participant_left(self, participant: Participant) -> None:
        if self.ended:
            return
        if participant.is_replica:
            logger.info("conversation %s: the replica left the room", self.conversation_id)
            return
        # The app's own participant must not keep a call alive that every person has left
        # (Tavus counts it as a participant): leave after a grace period, so a reload can
        # rejoin first.
        if self._people_seen and self._people_in_room() == 0 and self._empty_room_timer is None:
            loop = asyncio.get_running_loop()
            self._empty_room_timer = loop.call_later(
                self._empty_room_grace,
                lambda: loop.create_task(self.close("everyone left the call")),
            )

    async def _on_room_closed(self, reason: str) -> None:
        await self.close(reason)

    async def _on_reconnecting(self, reason: str) -> None:
        if not self.ended:
            self._notice("connection", "The connection to the room was lost; reconnecting…")

    async def _on_reconnected(self, participant: Participant) -> None:
        if not self.ended:
            self._notice("connection", "Reconnected to the room.", active=False)

    # ---- is the replica answering? ----------------------------------------------------

    def _expect_reply(self) -> None:
        """A turn was sent: expect a word from the replica within `reply_timeout`."""
        if self._reply_timer is None and not self.ended:
            loop = asyncio.get_running_loop()
            self._reply_timer = loop.call_later(self.reply_timeout, self._reply_overdue)

    def _reply_overdue(self) -> None:
        self._reply_timer = None
        if self.ended:
            return
        self.replica_silent = True
        logger.warning(
            "conversation %s: the replica has not answered for %gs",
            self.conversation_id,
            self.reply_timeout,
        )
        self._notice("replica", f"The replica has not answered for {self.reply_timeout:g} s.")

    def _replica_answered(self) -> None:
        self._disarm_reply_timer()
        if self.replica_silent:
            self.replica_silent = False
            self._notice("replica", "The replica is answering again.", active=False)

    def _disarm_reply_timer(self) -> None:
        if self._reply_timer is not None:
            self._reply_timer.cancel()
            self._reply_timer = None

    def _notice(
        self, topic: Literal["connection", "replica"], text: str, *, active: bool = True
    ) -> None:
        self._publish(Notice(topic=topic, text=text, active=active))

    def _next_update_id(self) -> int:
        self._last_update_id += 1
        return self._last_update_id

    def _publish(self, update: LiveUpdate) -> None:
        """Number the update (unless numbered already), keep it for replays, hand it out."""
        if not update.update_id:
            update = update.model_copy(update={"update_id": self._next_update_id()})
        self._replay.append(update)
        self.bus.publish(self.conversation_id, update)

    def replay_snapshot(self) -> list[LiveUpdate]:
        """The latest published updates (at most `replay_size`), oldest first.

        Taken in the same step as a bus subscription (no await between), the snapshot and the
        subscription together hold every update from the snapshot's first one on, each once.
        """
        return list(self._replay)

    # ---- tools ------------------------------------------------------------------------

    def _start_tool_call(self, event: ToolCallEvent) -> None:
        props = event.properties
        call_id = props.tool_call_id or event.inference_id or uuid.uuid4().hex
        known = props.name in self.tools
        pending = ToolCallUpdate(
            tool_call_id=call_id,
            name=props.name,
            arguments=props.arguments,
            status="pending" if known else "unhandled",
        )
        self.recorder.record_tool_call(pending)
        self._publish(pending)
        if not known:
            # Left for the person to answer from the room view (`send_tool_result`).
            self._unanswered[call_id] = pending
            while len(self._unanswered) > _MAX_UNANSWERED:
                self._unanswered.pop(next(iter(self._unanswered)))
            return
        task = asyncio.get_running_loop().create_task(self._run_tool(pending))
        self._tool_tasks.add(task)
        task.add_done_callback(self._tool_tasks.discard)

    async def _run_tool(self, call: ToolCallUpdate) -> None:
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
        done = call.model_copy(
            update={"status": status, "output": output, "latency_ms": outcome.latency_ms}
        )
        self.recorder.record_tool_call(done)
        self._publish(done)
        if result is None:
            logger.warning(
                "conversation %s: no result can be sent for tool call %r",
                self.conversation_id,
                call.tool_call_id,
            )
            return
        if self.ended:
            return
        try:
            await self._send(result)
        except (ProtocolError, SessionError) as exc:
            logger.warning("conversation %s: tool result not sent: %s", self.conversation_id, exc)

    # ---- outbound ---------------------------------------------------------------------

    async def send(self, interaction: Interaction) -> None:
        """Send one validated interaction into the room, within the send-rate limit."""
        if self.ended:
            raise SessionEnded("This conversation has ended.")
        if not self._limiter.take():
            raise SendRateLimited("Too many messages in a short time; wait a moment.")
        await self._send(interaction)

    async def _send(self, interaction: Interaction) -> None:
        if interaction.conversation_id != self.conversation_id:
            raise SessionError("That message belongs to another conversation.")
        await self.transport.send(interaction.to_message())
        update_id = self._next_update_id()
        self.recorder.record_interaction(interaction, update_id=update_id)
        self._publish(InteractionSent(interaction=interaction, update_id=update_id))

    async def respond(self, text: str) -> None:
        """Speak `text` as the user: it goes through the replica's LLM."""
        await self.send(respond(self.conversation_id, text))
        self._expect_reply()

    async def echo(self, text: str) -> None:
        """Make the replica say `text` verbatim (split over several messages when long)."""
        await self._send_chunks(split_echo_text(self.conversation_id, text))

    async def echo_audio(self, pcm: bytes, *, sample_rate: int = 24000) -> None:
        """Make the replica speak raw 16-bit mono PCM audio, in chunks under the size limit.

        At most `MAX_ECHO_AUDIO_SECONDS` long; every chunk is one send against the rate limit.
        """
        if sample_rate > 0 and len(pcm) / 2 / sample_rate > MAX_ECHO_AUDIO_SECONDS:
            raise SessionError(
                f"Audio echoes can be at most {MAX_ECHO_AUDIO_SECONDS:g} seconds long."
            )
        await self._send_chunks(
            split_echo_audio(self.conversation_id, pcm, sample_rate=sample_rate)
        )

    async def _send_chunks(self, chunks: list[EchoInteraction]) -> None:
        """Send an echo's chunks in order, each one a send against the rate limit.

        The first must find the limit open (else the echo is refused); the rest wait their
        turn, so a long echo is paced at the send rate instead of counting as one send.
        """
        if self.ended:
            raise SessionEnded("This conversation has ended.")
        if not self._limiter.take():
            raise SendRateLimited("Too many messages in a short time; wait a moment.")
        generation = self._echo_generation
        for index, chunk in enumerate(chunks):
            if index:
                await self._limiter.acquire()
            if self.ended:
                raise SessionEnded("This conversation has ended.")
            if generation != self._echo_generation:
                return  # interrupted: the rest of the echo is not sent
            await self._send(chunk)
        self._expect_reply()

    async def interrupt(self) -> None:
        """Make the replica stop talking, and stop sending an echo still under way."""
        if self.ended:
            raise SessionEnded("This conversation has ended.")
        if not self._interrupt_limiter.take():
            raise SendRateLimited("Too many interrupts in a short time; wait a moment.")
        self._echo_generation += 1
        await self._send(interrupt(self.conversation_id))

    async def overwrite_context(self, context: str) -> None:
        """Replace the replica's conversational context."""
        await self.send(overwrite_context(self.conversation_id, context))

    async def append_context(self, context: str) -> None:
        """Add to the replica's conversational context."""
        await self.send(append_context(self.conversation_id, context))

    async def set_sensitivity(
        self, *, pause: SensitivityLevel | None = None, interrupt: SensitivityLevel | None = None
    ) -> None:
        """Change turn-taking sensitivity; one message per key, as the protocol requires."""
        for message in sensitivity(self.conversation_id, pause=pause, interrupt=interrupt):
            await self.send(message)

    async def send_tool_result(
        self,
        tool_call_id: str,
        output: str,
        *,
        status: Literal["success", "error"] = "success",
    ) -> None:
        """Answer a tool call that no registered tool handled; the call is then finished."""
        await self.send(tool_result(self.conversation_id, tool_call_id, output, status=status))
        call = self._unanswered.pop(tool_call_id, None)
        if call is not None:
            waited_ms = (utc_now() - call.at).total_seconds() * 1000
            done = call.model_copy(
                update={"status": status, "output": output, "latency_ms": waited_ms}
            )
            self.recorder.record_tool_call(done)
            self._publish(done)
