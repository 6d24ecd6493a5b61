"""Building and sending the simulated replica's events, stamped as Tavus stamps them.

Every event gets the conversation id, the next `seq` (monotonic per conversation) and a Unix
`timestamp`; turn events carry `turn_idx` and `inference_id`. With twins on, replica-side events
are sent a second time in their newer `pal` form, as newer Tavus does.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

from cvi_app.protocol import (
    MAX_APP_MESSAGE_BYTES,
    Event,
    EventProperties,
    PalJoinedEvent,
    PerceptionAnalysisEvent,
    ReplicaInterruptedEvent,
    ReplicaJoinedEvent,
    ReplicaStartedSpeakingEvent,
    ReplicaStoppedSpeakingEvent,
    Role,
    ShutdownEvent,
    StartedSpeakingEvent,
    StoppedSpeakingEvent,
    StreamingUtteranceEvent,
    ToolCallEvent,
    UserStartedSpeakingEvent,
    UserStoppedSpeakingEvent,
    UtteranceEvent,
    message_size,
)
from cvi_app.protocol.events import (
    JoinedProperties,
    PerceptionAnalysisProperties,
    ShutdownProperties,
    SpeakingStartedProperties,
    SpeakingStoppedProperties,
    StoppedProperties,
    StreamingUtteranceProperties,
    ToolCallProperties,
    UtteranceProperties,
)

__all__ = ["ReplicaEvents"]

logger = logging.getLogger(__name__)

_E = TypeVar("_E", bound=Event)


class ReplicaEvents:
    """The replica's outgoing events, one method per kind.

    Args:
        conversation_id: Stamped on every event.
        send: Delivers one message to the room (to everyone); may raise, which is logged.
        on_event: Called with every event sent (for the record and the transcript).
        twins: Also send the newer `pal` twin of replica-side events.
    """

    def __init__(
        self,
        *,
        conversation_id: str,
        send: Callable[[dict[str, Any]], object],
        on_event: Callable[[Event], None] | None = None,
        twins: bool = False,
    ) -> None:
        self.conversation_id = conversation_id
        self._send = send
        self._on_event = on_event
        self.twins = twins
        self.seq = 0

    def replica_joined(self, replica_id: str | None) -> None:
        """`system.replica_joined` (and `system.pal_joined`)."""
        props = JoinedProperties(replica_id=replica_id)
        self._emit(ReplicaJoinedEvent, props, message_type="system")
        if self.twins:
            self._emit(PalJoinedEvent, props, message_type="system")

    def user_started_speaking(self, *, turn_idx: int, inference_id: str) -> None:
        """`conversation.user.started_speaking`."""
        self._emit(UserStartedSpeakingEvent, None, turn_idx=turn_idx, inference_id=inference_id)

    def user_stopped_speaking(self, *, turn_idx: int, inference_id: str, duration: float) -> None:
        """`conversation.user.stopped_speaking`."""
        props = StoppedProperties(duration=duration, interrupted=False)
        self._emit(UserStoppedSpeakingEvent, props, turn_idx=turn_idx, inference_id=inference_id)

    def user_utterance(self, speech: str, *, turn_idx: int, inference_id: str) -> None:
        """`conversation.utterance` with role user."""
        self._emit_speech(
            UtteranceEvent,
            functools.partial(UtteranceProperties, role="user"),
            speech,
            turn_idx=turn_idx,
            inference_id=inference_id,
        )

    def replica_started_speaking(self, *, turn_idx: int, inference_id: str) -> None:
        """`conversation.replica.started_speaking` (and `conversation.started_speaking` pal)."""
        self._emit(ReplicaStartedSpeakingEvent, None, turn_idx=turn_idx, inference_id=inference_id)
        if self.twins:
            self._emit(
                StartedSpeakingEvent,
                SpeakingStartedProperties(role="pal"),
                turn_idx=turn_idx,
                inference_id=inference_id,
            )

    def replica_utterance(
        self, speech: str, *, turn_idx: int, inference_id: str, interrupted: bool = False
    ) -> None:
        """`conversation.utterance` with role replica: the full intended reply.

        `interrupted` marks the reply of a turn cut off before it was all known (a streamed
        reply of the persona's own LLM): `speech` is then what had come so far.
        """
        extra: dict[str, Any] = {"interrupted": True} if interrupted else {}
        for role in self._replica_roles():
            self._emit_speech(
                UtteranceEvent,
                functools.partial(UtteranceProperties, role=role, **extra),
                speech,
                turn_idx=turn_idx,
                inference_id=inference_id,
            )

    def streaming(
        self,
        speech: str,
        *,
        turn_idx: int,
        inference_id: str,
        content_index: int,
        final: bool,
        is_interrupted: bool = False,
    ) -> None:
        """`conversation.utterance.streaming`: what has been spoken so far."""
        for role in self._replica_roles():
            self._emit_speech(
                StreamingUtteranceEvent,
                functools.partial(
                    StreamingUtteranceProperties,
                    role=role,
                    content_index=content_index,
                    final=final,
                    is_interrupted=is_interrupted,
                ),
                speech,
                turn_idx=turn_idx,
                inference_id=inference_id,
            )

    def replica_stopped_speaking(
        self, *, turn_idx: int, inference_id: str, duration: float, interrupted: bool
    ) -> None:
        """`conversation.replica.stopped_speaking` (and `conversation.stopped_speaking` pal)."""
        props = StoppedProperties(duration=duration, interrupted=interrupted)
        self._emit(ReplicaStoppedSpeakingEvent, props, turn_idx=turn_idx, inference_id=inference_id)
        if self.twins:
            self._emit(
                StoppedSpeakingEvent,
                SpeakingStoppedProperties(role="pal", duration=duration, interrupted=interrupted),
                turn_idx=turn_idx,
                inference_id=inference_id,
            )

    def replica_interrupted(self, *, turn_idx: int, inference_id: str) -> None:
        """`conversation.replica_interrupted`."""
        self._emit(ReplicaInterruptedEvent, None, turn_idx=turn_idx, inference_id=inference_id)

    def tool_call(
        self,
        name: str,
        arguments: dict[str, Any],
        *,
        tool_call_id: str,
        turn_idx: int,
        inference_id: str,
    ) -> None:
        """`conversation.tool_call` (arguments go on the wire as a JSON string)."""
        props = ToolCallProperties(name=name, arguments=arguments, tool_call_id=tool_call_id)
        self._emit(ToolCallEvent, props, turn_idx=turn_idx, inference_id=inference_id)

    def perception_analysis(self, analysis: str) -> None:
        """`conversation.perception_analysis`, sent as the call ends."""
        self._emit(PerceptionAnalysisEvent, PerceptionAnalysisProperties(analysis=analysis))

    def shutdown(self, reason: str) -> None:
        """`system.shutdown` with `shutdown_reason`."""
        self._emit(ShutdownEvent, ShutdownProperties(shutdown_reason=reason), message_type="system")

    def _replica_roles(self) -> tuple[Role, ...]:
        return ("replica", "pal") if self.twins else ("replica",)

    def _emit_speech(
        self,
        cls: type[_E],
        properties: Callable[..., EventProperties],
        speech: str,
        *,
        turn_idx: int,
        inference_id: str,
    ) -> None:
        """Emit an event carrying speech, cutting the speech short if it would not fit 4 KB."""
        event = self._build(
            cls, properties(speech=speech), turn_idx=turn_idx, inference_id=inference_id
        )
        while message_size(event.to_message()) > MAX_APP_MESSAGE_BYTES and speech:
            speech = speech[: len(speech) * 3 // 4].rstrip() + "…"
            event = self._build(
                cls, properties(speech=speech), turn_idx=turn_idx, inference_id=inference_id
            )
        self._deliver(event)

    def _emit(
        self,
        cls: type[_E],
        properties: Any,
        *,
        turn_idx: int | None = None,
        inference_id: str | None = None,
        message_type: str = "conversation",
    ) -> None:
        event = self._build(
            cls, properties, turn_idx=turn_idx, inference_id=inference_id, message_type=message_type
        )
        self._deliver(event)

    def _build(
        self,
        cls: type[_E],
        properties: Any,
        *,
        turn_idx: int | None,
        inference_id: str | None,
        message_type: str = "conversation",
    ) -> _E:
        fields: dict[str, Any] = {
            "message_type": message_type,
            "conversation_id": self.conversation_id,
            "seq": self.seq + 1,
            "turn_idx": turn_idx,
            "inference_id": inference_id,
            "timestamp": time.time(),
        }
        if properties is not None:
            fields["properties"] = properties
        return cls(**fields)

    def _deliver(self, event: Event) -> None:
        self.seq = event.seq or self.seq + 1
        try:
            self._send(event.to_message())
        except Exception as exc:
            logger.warning("could not send %s to the room: %s", event.event_type, exc)
        if self._on_event is not None:
            try:
                self._on_event(event)
            except Exception:
                logger.exception("event hook failed for %s", event.event_type)
