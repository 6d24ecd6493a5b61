"""The simulated replica: joins a conversation's room and behaves as PROTOCOL.md describes.

It greets the first person to join, answers user speech and `conversation.respond` with the
full event sequence of a real turn (the user speaking for as long as saying the words takes,
then the replica's answer), speaks echoes verbatim (an audio echo for the audio's duration),
calls the persona's tools and waits for their results, obeys interrupts, context changes and
sensitivity, and says goodbye with `system.shutdown`. Only one turn runs at a time: a new one
interrupts the one in progress. Invalid messages from the room are logged and ignored; nothing a
participant sends can crash it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from cvi_app.protocol import (
    AppendContextInteraction,
    EchoInteraction,
    Event,
    InterruptInteraction,
    OverwriteContextInteraction,
    ProtocolError,
    RespondInteraction,
    SensitivityInteraction,
    ToolResultInteraction,
    TranscriptEntry,
    join_echo_audio,
    join_echo_text,
    validate_interaction,
)
from cvi_app.sandbox.replica_events import ReplicaEvents
from cvi_app.sandbox.responder import Responder, ToolRequest
from cvi_app.sandbox.rooms import LocalParticipant, Room
from cvi_app.sandbox.user_speech import UserSpeech, parse_user_speech
from cvi_app.transport.local_frames import ParticipantInfo

__all__ = ["DEFAULT_WORDS_PER_SECOND", "SimulatedReplica"]

logger = logging.getLogger(__name__)

DEFAULT_WORDS_PER_SECOND = 3.0
WORDS_PER_CHUNK = 3
"""Words per streaming update: each `conversation.utterance.streaming` adds this many."""
DEFAULT_SAMPLE_RATE = 16000
MAX_USER_SPEECH_SECONDS = 3.0
"""Longest the user is shown speaking for one turn (a typed turn "is said" at the replica's pace)."""
# Untrusted echo chunks are buffered until `done`: bound how much a participant can pile up.
MAX_ECHO_CHUNKS = 10_000
MAX_OPEN_ECHOES = 16
MAX_ECHO_BYTES = 24 * 1024 * 1024
"""Audio buffered over all unfinished echoes: a minute at 192 kHz, more than the app sends."""


@dataclass
class _Turn:
    """One replica turn in progress."""

    turn_idx: int
    inference_id: str
    speaking: bool = False
    started_at: float = 0.0
    spoken: list[str] = field(default_factory=list)
    content_index: int = 0
    tool_call_id: str | None = None
    heard: bool = True
    """False while the user is still speaking this turn's words (nothing of the replica's yet)."""


class SimulatedReplica:
    """A deterministic, protocol-faithful stand-in for a Tavus replica.

    Args:
        room: The conversation's room; the replica joins it as the replica participant.
        conversation_id: Stamped on every event.
        responder: Decides what the replica says and which tools it calls.
        replica_id: Reported in `system.replica_joined`.
        custom_greeting: The conversation's greeting (else the persona's default).
        system_prompt: Opens the transcript as its `system` entry.
        words_per_second: Speaking speed; speaking takes time proportional to the words.
        twins: Also send the newer `pal` twins of replica-side events.
        perception: Send `conversation.perception_analysis` as the call ends.
        tool_timeout: Seconds to wait for a tool result before saying it could not get one.
        on_event: Called with every event the replica sends.
    """

    def __init__(
        self,
        room: Room,
        *,
        conversation_id: str,
        responder: Responder,
        replica_id: str | None = None,
        custom_greeting: str | None = None,
        system_prompt: str | None = None,
        words_per_second: float = DEFAULT_WORDS_PER_SECOND,
        twins: bool = False,
        perception: bool = False,
        tool_timeout: float = 20.0,
        on_event: Callable[[Event], None] | None = None,
    ) -> None:
        if words_per_second <= 0:
            raise ValueError("words_per_second must be positive")
        self.room = room
        self.conversation_id = conversation_id
        self.responder = responder
        self.replica_id = replica_id
        self.custom_greeting = custom_greeting
        self.words_per_second = words_per_second
        self.perception = perception
        self.tool_timeout = tool_timeout
        self.sensitivity: dict[str, str] = {}
        """Latest sensitivity levels received, by key (e.g. `participant_pause_sensitivity`)."""
        self.transcript: list[TranscriptEntry] = []
        self.perception_analysis: str | None = None
        self._on_event = on_event
        self._events = ReplicaEvents(
            conversation_id=conversation_id, send=self._send, on_event=self._record, twins=twins
        )
        self._participant: LocalParticipant | None = None
        self._turn: _Turn | None = None
        self._turn_task: asyncio.Task[None] | None = None
        self._turn_idx = -1
        self._greeted = False
        self._stopped = False
        self._started_at = time.monotonic()
        self._user_turns = 0
        self._tool_results: dict[str, asyncio.Future[tuple[str, bool]]] = {}
        self._echoes: dict[str | None, list[EchoInteraction]] = {}
        self._echo_bytes = 0
        self._dropped_echoes: dict[str | None, None] = {}  # insertion-ordered, bounded
        if system_prompt and system_prompt.strip():
            self.transcript.append(self._entry("system", system_prompt.strip()))

    @property
    def participant_id(self) -> str | None:
        """The replica's participant id in the room, once joined."""
        return self._participant.id if self._participant else None

    @property
    def speaking(self) -> bool:
        """Whether the replica is speaking right now."""
        return self._turn is not None and self._turn.speaking

    async def start(self) -> None:
        """Join the room, announce `system.replica_joined`, greet whoever is already there."""
        self._participant = await self.room.join(
            user_name="tavus-replica",
            is_replica=True,
            on_app_message=self._on_app_message,
            on_participant_joined=self._on_participant_joined,
        )
        self._events.replica_joined(self.replica_id)
        if any(not p.is_replica for p in self.room.participants):
            await self._greet()

    async def stop(self, reason: str) -> None:
        """End the conversation's side of the replica (idempotent).

        The turn in progress stops where it is; with perception on, the analysis is sent; then
        `system.shutdown` with `reason`. The room itself is closed by its owner.
        """
        if self._stopped:
            return
        self._stopped = True
        await self._cancel_turn()
        for future in self._tool_results.values():
            future.cancel()
        if self.perception:
            self.perception_analysis = self._analysis()
            self._events.perception_analysis(self.perception_analysis)
        self._events.shutdown(reason)

    async def wait_idle(self) -> None:
        """Wait until no turn is in progress (for callers that need a quiet replica)."""
        while self._turn_task is not None and not self._turn_task.done():
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.shield(self._turn_task)

    # Inbound -------------------------------------------------------------------------------

    async def _on_participant_joined(self, participant: ParticipantInfo) -> None:
        if not participant.is_replica:
            await self._greet()

    async def _on_app_message(self, data: dict[str, Any], from_id: str) -> None:
        if self._stopped:
            return
        try:
            speech = parse_user_speech(data)
        except ValueError as exc:
            logger.info("replica ignored a message from %s: %s", from_id, exc)
            return
        if speech is not None:
            await self._hear(speech)
            return
        try:
            interaction = validate_interaction(data)
        except ProtocolError as exc:
            logger.info("replica ignored an invalid interaction from %s: %s", from_id, exc)
            return
        if interaction.conversation_id != self.conversation_id:
            logger.info(
                "replica ignored %s for another conversation (%s)",
                interaction.event_type,
                interaction.conversation_id,
            )
            return
        await self._handle(interaction)

    async def _handle(self, interaction: object) -> None:
        if isinstance(interaction, RespondInteraction):
            await self._user_turn(interaction.properties.text)
        elif isinstance(interaction, EchoInteraction):
            await self._echo(interaction)
        elif isinstance(interaction, InterruptInteraction):
            await self._interrupt()
        elif isinstance(interaction, OverwriteContextInteraction):
            self.responder.overwrite_context(interaction.properties.context)
        elif isinstance(interaction, AppendContextInteraction):
            self.responder.append_context(interaction.properties.context)
            if interaction.properties.job_status == "completed":
                self._resolve_pending_tool(interaction.properties.context)
        elif isinstance(interaction, SensitivityInteraction):
            for key, level in interaction.properties.model_dump(exclude_none=True).items():
                self.sensitivity[key] = level
        elif isinstance(interaction, ToolResultInteraction):
            props = interaction.properties
            future = self._tool_results.get(props.tool_call_id)
            if future is None or future.done():
                logger.info("replica ignored a result for unknown tool call %s", props.tool_call_id)
            else:
                future.set_result((props.output, props.status == "success"))

    async def _hear(self, speech: UserSpeech) -> None:
        if speech.conversation_id not in (None, self.conversation_id):
            logger.info("replica ignored speech for another conversation")
            return
        await self._user_turn(speech.properties.text)

    def _resolve_pending_tool(self, output: str) -> None:
        for future in self._tool_results.values():
            if not future.done():
                future.set_result((output, True))

    # Turns ---------------------------------------------------------------------------------

    async def _greet(self) -> None:
        if self._greeted or self._stopped:
            return
        self._greeted = True
        text = self.responder.greeting(self.custom_greeting)
        await self._begin(lambda turn: self._speak(turn, text))

    async def _user_turn(self, text: str) -> None:
        """A user turn, spoken or typed: the user speaks the words, then the replica answers."""
        await self._interrupt()
        turn = self._next_turn()
        turn.heard = False
        self._user_turns += 1
        await self._begin(lambda turn: self._hear_then_answer(turn, text), turn)

    async def _hear_then_answer(self, turn: _Turn, text: str) -> None:
        # A call hears a typed turn as speech too: the user speaks for as long as saying the
        # words takes (at the replica's pace, capped), so their speaking state shows.
        seconds = min(max(len(text.split()), 1) / self.words_per_second, MAX_USER_SPEECH_SECONDS)
        ids: dict[str, Any] = {"turn_idx": turn.turn_idx, "inference_id": turn.inference_id}
        started = time.monotonic()
        self._events.user_started_speaking(**ids)
        try:
            await asyncio.sleep(seconds)
        except asyncio.CancelledError:
            self.responder.hear(text)
            raise
        finally:
            # Cut short (a newer turn, an interrupt), the words said so far still count.
            turn.heard = True
            duration = round(time.monotonic() - started, 3)
            self._events.user_stopped_speaking(duration=duration, **ids)
            self._events.user_utterance(text, **ids)
        await self._answer(turn, text)

    async def _echo(self, chunk: EchoInteraction) -> None:
        key = chunk.properties.inference_id
        if key in self._dropped_echoes:
            # The rest of an echo already dropped: ignored up to its last chunk.
            if chunk.properties.done:
                self._dropped_echoes.pop(key, None)
            return
        chunks = self._echoes.setdefault(key, [])
        size = len(chunk.properties.audio or "") * 3 // 4
        if (
            len(self._echoes) > MAX_OPEN_ECHOES
            or len(chunks) >= MAX_ECHO_CHUNKS
            or self._echo_bytes + size > MAX_ECHO_BYTES
        ):
            logger.warning("replica dropped echo %s: too much unfinished audio or text", key)
            self._drop_echo(key)
            if not chunk.properties.done:
                self._dropped_echoes[key] = None
                while len(self._dropped_echoes) > MAX_OPEN_ECHOES:
                    self._dropped_echoes.pop(next(iter(self._dropped_echoes)))
            return
        chunks.append(chunk)
        self._echo_bytes += size
        if not chunk.properties.done:
            return
        self._drop_echo(key)
        try:
            if chunks[0].properties.modality == "text":
                text = join_echo_text(chunks)
                seconds = None
            else:
                pcm = join_echo_audio(chunks)
                rate = chunks[0].properties.sample_rate or DEFAULT_SAMPLE_RATE
                seconds = len(pcm) / 2 / rate
                text = f"[audio {seconds:.1f}s]"
        except ProtocolError as exc:
            logger.info("replica ignored echo %s: %s", key, exc)
            return
        await self._interrupt()
        await self._begin(
            lambda turn: self._speak(turn, text, audio_seconds=seconds),
            self._next_turn(inference_id=key),
        )

    def _drop_echo(self, key: str | None) -> None:
        for dropped in self._echoes.pop(key, []):
            self._echo_bytes -= len(dropped.properties.audio or "") * 3 // 4

    def _next_turn(self, *, inference_id: str | None = None) -> _Turn:
        self._turn_idx += 1
        return _Turn(self._turn_idx, inference_id or f"inf-{uuid.uuid4().hex[:12]}")

    async def _begin(
        self, body: Callable[[_Turn], Coroutine[Any, Any, None]], turn: _Turn | None = None
    ) -> None:
        """Run a turn as its own task, interrupting the one in progress first."""
        await self._interrupt()
        if self._stopped:
            return
        turn = turn or self._next_turn()
        self._turn = turn
        self._turn_task = asyncio.get_running_loop().create_task(
            self._run(turn, body), name=f"replica-turn-{self.conversation_id}-{turn.turn_idx}"
        )

    async def _run(self, turn: _Turn, body: Callable[[_Turn], Coroutine[Any, Any, None]]) -> None:
        try:
            await body(turn)
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("replica turn %s failed", turn.turn_idx)
        finally:
            if self._turn is turn and not turn.speaking:
                self._turn = None

    async def _answer(self, turn: _Turn, text: str) -> None:
        reply = self.responder.reply(text)
        said = reply.text
        if reply.tool is not None:
            said = await self._call_tool(turn, reply.tool)
        await self._speak(turn, said)

    async def _call_tool(self, turn: _Turn, request: ToolRequest) -> str:
        call_id = f"call_{uuid.uuid4().hex[:12]}"
        turn.tool_call_id = call_id
        future: asyncio.Future[tuple[str, bool]] = asyncio.get_running_loop().create_future()
        self._tool_results[call_id] = future
        self._events.tool_call(
            request.name,
            request.arguments,
            tool_call_id=call_id,
            turn_idx=turn.turn_idx,
            inference_id=turn.inference_id,
        )
        try:
            output, ok = await asyncio.wait_for(future, self.tool_timeout)
        except TimeoutError:
            logger.info("tool %s (%s) gave no result in time", request.name, call_id)
            return self.responder.tool_timed_out(request)
        finally:
            self._tool_results.pop(call_id, None)
        self.transcript.append(self._entry("tool", output, inference_id=turn.inference_id))
        return self.responder.after_tool(request, output, ok=ok)

    async def _speak(self, turn: _Turn, text: str, *, audio_seconds: float | None = None) -> None:
        words = text.split()
        turn.speaking = True
        turn.started_at = time.monotonic()
        ids: dict[str, Any] = {"turn_idx": turn.turn_idx, "inference_id": turn.inference_id}
        self._events.replica_started_speaking(**ids)
        self._events.replica_utterance(text, **ids)
        if audio_seconds is not None:
            # Audio lasts as long as it lasts, whatever the speaking pace.
            chunks = [words]
            pace = audio_seconds
        else:
            chunks = [words[i : i + WORDS_PER_CHUNK] for i in range(0, len(words), WORDS_PER_CHUNK)]
            pace = 0.0
        for index, chunk in enumerate(chunks):
            await asyncio.sleep(pace or len(chunk) / self.words_per_second)
            turn.spoken.extend(chunk)
            turn.content_index = index + 1
            self._events.streaming(
                " ".join(turn.spoken), content_index=index, final=index == len(chunks) - 1, **ids
            )
        turn.speaking = False
        duration = round(time.monotonic() - turn.started_at, 3)
        self._events.replica_stopped_speaking(duration=duration, interrupted=False, **ids)
        self.transcript.append(
            self._entry("assistant", text, inference_id=turn.inference_id, duration=duration)
        )

    async def _interrupt(self) -> None:
        """Cut the turn in progress short, with the events Tavus sends for an interruption."""
        turn = self._turn
        # While the user is still speaking, nothing of the replica's is cut: the turn ends
        # with the user's words (its task says them as it stops), not with an interruption.
        listening = turn is not None and not turn.heard
        if not await self._cancel_turn() or turn is None or listening:
            return
        ids: dict[str, Any] = {"turn_idx": turn.turn_idx, "inference_id": turn.inference_id}
        if turn.speaking:
            turn.speaking = False
            duration = round(time.monotonic() - turn.started_at, 3)
            spoken = " ".join(turn.spoken)
            self._events.replica_stopped_speaking(duration=duration, interrupted=True, **ids)
            self._events.streaming(
                spoken, content_index=turn.content_index, final=True, is_interrupted=True, **ids
            )
            self.transcript.append(
                self._entry("assistant", spoken, inference_id=turn.inference_id, duration=duration)
            )
        self._events.replica_interrupted(**ids)

    async def _cancel_turn(self) -> bool:
        """Cancel the turn task; True when a turn was actually in progress."""
        task, self._turn_task = self._turn_task, None
        if task is None or task.done():
            self._turn = None
            return False
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        self._turn = None
        return True

    # Output --------------------------------------------------------------------------------

    def _send(self, message: dict[str, Any]) -> None:
        if self._participant is None:
            raise RuntimeError("the replica has not joined the room")
        self._participant.send_nowait(message, "*")

    def _record(self, event: Event) -> None:
        if event.event_type == "conversation.utterance" and event.role == "user":
            speech = getattr(event.properties, "speech", "")
            self.transcript.append(self._entry("user", speech, inference_id=event.inference_id))
        if self._on_event is not None:
            self._on_event(event)

    def _entry(self, role: str, content: str, **extra: Any) -> TranscriptEntry:
        return TranscriptEntry(
            role=role,  # type: ignore[arg-type]
            content=content,
            timestamp=time.time(),
            seconds_from_start=round(time.monotonic() - self._started_at, 3),
            **extra,
        )

    def _analysis(self) -> str:
        minutes = (time.monotonic() - self._started_at) / 60
        turns = self._user_turns
        return (
            f"The user took {turns} turn{'s' if turns != 1 else ''} over {minutes:.1f} minutes "
            "and appeared attentive and engaged throughout the conversation."
        )
