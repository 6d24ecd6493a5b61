"""The simulated replica: joins a conversation's room and behaves as PROTOCOL.md describes.

It greets the first person to join, answers user speech and `conversation.respond` with the
full event sequence of a real turn (the user speaking for as long as saying the words takes,
then the replica's answer), speaks echoes verbatim (an audio echo for the audio's duration),
calls the persona's tools and waits for their results, obeys interrupts, context changes and
sensitivity, and says goodbye with `system.shutdown`. What it answers comes from the rules of
`responder.py`, or, for a persona whose `layers.llm` names a `base_url`, from that model
(`custom_llm.py`): its reply is spoken as it streams in, its tool calls become
`conversation.tool_call` events and the results go back to it. Only one turn runs at a time: a
new one interrupts the one in progress. Invalid messages from the room are logged and ignored; nothing a
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
from cvi_app.sandbox.custom_llm import (
    NOT_ANSWERING,
    TOO_MANY_TOOL_ROUNDS,
    Completion,
    CustomLLM,
    LLMError,
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
    speech: _Speech | None = None
    """A streamed reply being spoken whose utterance is not sent yet (it is not all known)."""
    segment_start: int = 0
    """Words of `spoken` said before the part being spoken now (a reply after a tool call
    continues the turn's speech: updates and utterance are cumulative over the turn)."""

    def said_before(self) -> str:
        """What earlier parts of this turn said."""
        return " ".join(self.spoken[: self.segment_start])

    def said_now(self) -> str:
        """What the part being spoken now has said so far."""
        return " ".join(self.spoken[self.segment_start :])


class _Speech:
    """A reply that arrives bit by bit (a streamed LLM reply), spoken as its words come."""

    def __init__(self) -> None:
        self.text = ""
        self.done = False
        self.started = False
        """Whether the replica started speaking it."""
        self._changed = asyncio.Event()

    def feed(self, piece: str) -> None:
        """More of the reply."""
        self.text += piece
        self._changed.set()

    def close(self) -> None:
        """The reply is all there."""
        self.done = True
        self._changed.set()

    def words(self) -> list[str]:
        """The whole words so far (the last one once a space or the end follows it)."""
        words = self.text.split()
        if words and not self.done and not self.text[-1].isspace():
            words.pop()
        return words

    async def changed(self) -> None:
        """Wait for more of the reply (or its end)."""
        await self._changed.wait()
        self._changed.clear()


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
        llm: The persona's own LLM; None answers with `responder`'s rules.
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
        llm: CustomLLM | None = None,
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
        self.llm = llm
        self.system_prompt = (system_prompt or "").strip()
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
        if self.llm is not None:
            try:
                await self.llm.aclose()
            except Exception:
                logger.exception("closing the LLM client of %s failed", self.conversation_id)

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
        if self.llm is not None:
            self.llm.add_assistant(text)
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
            if self.llm is not None:
                self.llm.add_user(text)
            else:
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
        if self.llm is not None and seconds is None:
            self.llm.add_assistant(text)
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
        if self.llm is not None:
            self.llm.add_user(text)
            await self._answer_with_llm(turn, self.llm)
            return
        reply = self.responder.reply(text)
        said = reply.text
        if reply.tool is not None:
            said = await self._call_tool(turn, reply.tool)
        await self._speak(turn, said)

    async def _call_tool(self, turn: _Turn, request: ToolRequest) -> str:
        result = await self._request_tool(turn, request.name, request.arguments)
        if result is None:
            return self.responder.tool_timed_out(request)
        output, ok = result
        return self.responder.after_tool(request, output, ok=ok)

    async def _request_tool(
        self,
        turn: _Turn,
        name: str,
        arguments: dict[str, Any],
        *,
        call_id: str | None = None,
    ) -> tuple[str, bool] | None:
        """Send `conversation.tool_call` and wait for its result: (output, ok), None if none came."""
        call_id = call_id or f"call_{uuid.uuid4().hex[:12]}"
        turn.tool_call_id = call_id
        future: asyncio.Future[tuple[str, bool]] = asyncio.get_running_loop().create_future()
        self._tool_results[call_id] = future
        self._events.tool_call(
            name,
            arguments,
            tool_call_id=call_id,
            turn_idx=turn.turn_idx,
            inference_id=turn.inference_id,
        )
        try:
            output, ok = await asyncio.wait_for(future, self.tool_timeout)
        except TimeoutError:
            logger.info("tool %s (%s) gave no result in time", name, call_id)
            return None
        finally:
            self._tool_results.pop(call_id, None)
        self.transcript.append(self._entry("tool", output, inference_id=turn.inference_id))
        return output, ok

    async def _answer_with_llm(self, turn: _Turn, llm: CustomLLM) -> None:
        """Answer from the persona's own LLM: speak its streamed reply, run its tool calls.

        Each request sends the system prompt (with the context as it is now) and the
        conversation so far; text is spoken as it arrives. When the model calls tools, their
        results go back to it and it goes on, for at most `max_tool_rounds` rounds. A failure is
        logged and the replica says so in one sentence; an interrupt cancels the stream.
        """
        budget = llm.limits.max_reply_chars
        rounds = 0
        while True:
            completion = await self._stream_reply(turn, llm, budget)
            if completion is None:
                return
            budget = max(budget - len(completion.text), 0)
            if not completion.tool_calls:
                llm.add_assistant(completion.text)
                return
            if rounds >= llm.limits.max_tool_rounds:
                logger.warning(
                    "conversation %s: the persona's LLM asked for tools more than %d times in "
                    "one turn; its calls were not made",
                    self.conversation_id,
                    llm.limits.max_tool_rounds,
                )
                llm.add_assistant(completion.text)
                await self._say_live(turn, TOO_MANY_TOOL_ROUNDS)
                return
            rounds += 1
            calls = completion.tool_calls
            try:
                results = await asyncio.gather(
                    *(
                        self._request_tool(
                            turn, call.function.name, call.arguments, call_id=call.id
                        )
                        for call in calls
                    )
                )
            except asyncio.CancelledError:
                # Cut off while waiting: the calls never finished, only their text was said.
                llm.add_assistant(completion.text)
                raise
            llm.add_assistant(completion.text, calls)
            for call, result in zip(calls, results, strict=True):
                llm.add_tool_result(call.id, _tool_message(result))

    async def _stream_reply(self, turn: _Turn, llm: CustomLLM, budget: int) -> Completion | None:
        """One request: speak the reply as it streams in; None when it failed (said so)."""
        speech = _Speech()
        speaker = asyncio.get_running_loop().create_task(
            self._speak_live(turn, speech), name=f"replica-speech-{self.conversation_id}"
        )
        completion: Completion | None = None
        kept = False  # whether what was said is in the history already
        try:
            try:
                completion = await llm.complete(
                    llm.messages(self._llm_system_prompt()),
                    on_text=speech.feed,
                    on_end=speech.close,
                    max_chars=budget,
                )
            except Exception as exc:
                if isinstance(exc, LLMError):
                    logger.warning(
                        "conversation %s: the persona's LLM (%s) failed: %s",
                        self.conversation_id,
                        llm.config.shown_endpoint,
                        exc,
                    )
                else:
                    logger.exception(
                        "conversation %s: calling the persona's LLM (%s) failed",
                        self.conversation_id,
                        llm.config.shown_endpoint,
                    )
                partial = speech.text.strip()
                if partial:
                    # What the model had said before it failed stays in the conversation.
                    llm.add_assistant(partial)
                    kept = True
                speech.feed((" " if partial else "") + NOT_ANSWERING)
            speech.close()
            await speaker
        except asyncio.CancelledError:
            if speech.started and not kept:
                llm.add_assistant(turn.said_now())
            raise
        finally:
            if not speaker.done():
                speaker.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await speaker
        return completion

    async def _say_live(self, turn: _Turn, text: str) -> None:
        speech = _Speech()
        speech.feed(text)
        speech.close()
        await self._speak_live(turn, speech)

    def _llm_system_prompt(self) -> str:
        """The persona's system prompt, then the context as it is now (overwritten, appended)."""
        parts = (self.system_prompt, self.responder.context)
        return "\n\n".join(part.strip() for part in parts if part and part.strip())

    def _start_speaking(self, turn: _Turn) -> dict[str, Any]:
        """`conversation.replica.started_speaking`; returns the turn's ids for its events."""
        turn.speaking = True
        turn.started_at = time.monotonic()
        turn.segment_start = len(turn.spoken)
        ids: dict[str, Any] = {"turn_idx": turn.turn_idx, "inference_id": turn.inference_id}
        self._events.replica_started_speaking(**ids)
        return ids

    def _stop_speaking(self, turn: _Turn, text: str) -> None:
        """`conversation.replica.stopped_speaking`, and what was said into the transcript."""
        turn.speaking = False
        duration = round(time.monotonic() - turn.started_at, 3)
        self._events.replica_stopped_speaking(
            duration=duration,
            interrupted=False,
            turn_idx=turn.turn_idx,
            inference_id=turn.inference_id,
        )
        self.transcript.append(
            self._entry("assistant", text, inference_id=turn.inference_id, duration=duration)
        )

    async def _speak(self, turn: _Turn, text: str, *, audio_seconds: float | None = None) -> None:
        words = text.split()
        ids = self._start_speaking(turn)
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
        self._stop_speaking(turn, text)

    async def _speak_live(self, turn: _Turn, speech: _Speech) -> None:
        """Speak a reply as it streams in, at the replica's pace.

        Speaking starts with the reply's first whole word; streaming updates follow the words
        as they are said; the utterance (the whole reply) is sent as soon as the reply is all
        known, before the last update. A reply that brings no words says nothing.
        """
        while not speech.words() and not speech.done:
            await speech.changed()
        if not speech.words():
            return
        ids = self._start_speaking(turn)
        speech.started = True
        turn.speech = speech
        start = turn.segment_start
        while True:
            if speech.done and turn.speech is not None:
                self._events.replica_utterance(_joined(turn.said_before(), speech.text), **ids)
                turn.speech = None
            pending = speech.words()[len(turn.spoken) - start :]
            if not pending and not speech.done:
                await speech.changed()
                continue
            if pending:
                chunk = pending[:WORDS_PER_CHUNK]
                await asyncio.sleep(len(chunk) / self.words_per_second)
                turn.spoken.extend(chunk)
            final = speech.done and len(turn.spoken) - start == len(speech.words())
            if final and turn.speech is not None:
                self._events.replica_utterance(_joined(turn.said_before(), speech.text), **ids)
                turn.speech = None
            self._events.streaming(
                " ".join(turn.spoken), content_index=turn.content_index, final=final, **ids
            )
            turn.content_index += 1
            if final:
                break
        self._stop_speaking(turn, turn.said_now())

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
            if turn.speech is not None:
                # A streamed reply cut off before it was all known: its utterance holds what
                # had come so far.
                said = _joined(turn.said_before(), turn.speech.text)
                self._events.replica_utterance(said, interrupted=True, **ids)
                turn.speech = None
            self._events.replica_stopped_speaking(duration=duration, interrupted=True, **ids)
            self._events.streaming(
                spoken, content_index=turn.content_index, final=True, is_interrupted=True, **ids
            )
            self.transcript.append(
                self._entry(
                    "assistant", turn.said_now(), inference_id=turn.inference_id, duration=duration
                )
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


def _tool_message(result: tuple[str, bool] | None) -> str:
    """What the model is told of a tool's result."""
    if result is None:
        return "Error: the tool gave no result in time."
    output, ok = result
    return output if ok else f"Error: {output}"


def _joined(before: str, text: str) -> str:
    """Earlier speech of a turn, then more."""
    return f"{before} {text.strip()}".strip()
