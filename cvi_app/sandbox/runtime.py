"""The sandbox's conversation runtime: rooms, replicas, timers and webhooks of live conversations.

The REST registry calls `start` when a conversation is created and `stop` once when it ends.
`start` opens the room, seats the simulated replica (unless `test_mode`), sends
`system.replica_joined` and arms the conversation's timers; a timer that fires ends the
conversation through the registry with Tavus's shutdown reason. `stop` says goodbye in the room,
closes it and sends the closing webhooks (`system.shutdown`, `application.transcription_ready`
and, with perception on, `application.perception_analysis`).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from cvi_app.protocol import (
    PalJoinedWebhook,
    PerceptionAnalysisWebhook,
    ReplicaJoinedWebhook,
    ShutdownWebhook,
    TranscriptEntry,
    TranscriptionReadyWebhook,
    Webhook,
)
from cvi_app.protocol.events import JoinedProperties, ShutdownProperties
from cvi_app.protocol.webhooks import (
    PerceptionAnalysisWebhookProperties,
    TranscriptionReadyProperties,
)
from cvi_app.sandbox.custom_llm import CustomLLM, CustomLLMConfig, CustomLLMLimits
from cvi_app.sandbox.models import SandboxConversation
from cvi_app.sandbox.replica import DEFAULT_WORDS_PER_SECOND, SimulatedReplica
from cvi_app.sandbox.responder import Responder, ToolSpec
from cvi_app.sandbox.rooms import Presence, Room, RoomHub
from cvi_app.sandbox.webhooks import WebhookSender

__all__ = [
    "MAX_CALL_DURATION_REACHED",
    "PARTICIPANT_ABSENT_TIMEOUT_REACHED",
    "PARTICIPANT_LEFT_TIMEOUT_REACHED",
    "RegistryHandle",
    "SandboxRuntime",
]

logger = logging.getLogger(__name__)

MAX_CALL_DURATION_REACHED = "max_call_duration reached"
PARTICIPANT_ABSENT_TIMEOUT_REACHED = "participant_absent_timeout reached"
PARTICIPANT_LEFT_TIMEOUT_REACHED = "participant_left_timeout reached"


class RegistryHandle(Protocol):
    """What the runtime needs of the conversation registry."""

    def end_conversation(self, conversation_id: str, *, reason: str) -> Any:
        """End a conversation (the registry then calls the runtime's `stop`)."""

    def record_event(self, conversation_id: str, event: dict[str, Any]) -> Any:
        """Keep a webhook-shaped event for `GET /conversations/{id}?verbose=true`."""


@dataclass
class _Live:
    """One live conversation's moving parts."""

    conversation: SandboxConversation
    room: Room
    replica: SimulatedReplica | None = None
    timers: dict[str, asyncio.Task[None]] = field(default_factory=dict)
    present: set[str] = field(default_factory=set)


class SandboxRuntime:
    """Runs the sandbox's live conversations (implements the registry's ConversationRuntime).

    Args:
        hub: Where conversation rooms live.
        registry_ref: Returns the registry (it is built after the runtime, which it receives).
        words_per_second: The simulated replica's speaking speed.
        twins: Replicas also send the newer `pal` twins of their events.
        webhook_sender: Delivers webhooks to callback URLs (one is made when None).
        tool_timeout: Seconds a replica waits for a tool result.
        llm_limits: The bounds of calls to a persona's own LLM (`layers.llm.base_url`).
    """

    def __init__(
        self,
        hub: RoomHub,
        registry_ref: Callable[[], RegistryHandle | None],
        *,
        words_per_second: float = DEFAULT_WORDS_PER_SECOND,
        twins: bool = False,
        webhook_sender: WebhookSender | None = None,
        tool_timeout: float = 20.0,
        llm_limits: CustomLLMLimits | None = None,
    ) -> None:
        self.hub = hub
        self._registry_ref = registry_ref
        self.words_per_second = words_per_second
        self.twins = twins
        self.webhooks = webhook_sender or WebhookSender()
        self.tool_timeout = tool_timeout
        self.llm_limits = llm_limits or CustomLLMLimits()
        self._live: dict[str, _Live] = {}

    def replica(self, conversation_id: str) -> SimulatedReplica | None:
        """The simulated replica of a live conversation (None in test mode or once ended)."""
        live = self._live.get(conversation_id)
        return live.replica if live else None

    def room(self, conversation_id: str) -> Room | None:
        """The open room of a live conversation."""
        return self.hub.get(conversation_id)

    async def start(self, conversation: SandboxConversation) -> None:
        """Open the conversation's room, seat its replica and arm its timers."""
        cid = conversation.conversation_id
        if cid in self._live:
            return
        token = conversation.meeting_token if conversation.require_auth else None
        room = self.hub.open(cid, meeting_token=token)
        live = _Live(conversation, room)
        self._live[cid] = live
        room.add_presence_listener(lambda presence: self._on_presence(live, presence))
        props = conversation.properties
        self._arm(live, "max_call_duration", props.max_call_duration, MAX_CALL_DURATION_REACHED)
        self._arm(
            live,
            "participant_absent_timeout",
            props.participant_absent_timeout,
            PARTICIPANT_ABSENT_TIMEOUT_REACHED,
        )
        if not conversation.test_mode:
            live.replica = self._make_replica(conversation, room)
            await live.replica.start()
            self._webhook(
                conversation,
                ReplicaJoinedWebhook,
                JoinedProperties(replica_id=conversation.replica_id),
            )
            if self.twins:
                self._webhook(
                    conversation,
                    PalJoinedWebhook,
                    JoinedProperties(replica_id=conversation.replica_id),
                )

    async def stop(self, conversation: SandboxConversation, reason: str) -> None:
        """Say goodbye in the room, close it and send the closing webhooks (once per conversation)."""
        live = self._live.pop(conversation.conversation_id, None)
        if live is None:
            return
        self._disarm_all(live)
        transcript: list[TranscriptEntry] = []
        analysis: str | None = None
        if live.replica is not None:
            await live.replica.stop(reason)
            transcript = live.replica.transcript
            analysis = live.replica.perception_analysis
        elif conversation.persona.system_prompt:
            transcript = [
                TranscriptEntry(role="system", content=conversation.persona.system_prompt)
            ]
        await self.hub.close(conversation.conversation_id, reason)
        self._webhook(conversation, ShutdownWebhook, ShutdownProperties(shutdown_reason=reason))
        self._webhook(
            conversation,
            TranscriptionReadyWebhook,
            TranscriptionReadyProperties(transcript=transcript),
        )
        if analysis is not None:
            self._webhook(
                conversation,
                PerceptionAnalysisWebhook,
                PerceptionAnalysisWebhookProperties(analysis=analysis),
            )

    async def aclose(self) -> None:
        """Stop everything at shutdown: timers, replicas, rooms, pending webhooks (idempotent)."""
        for live in list(self._live.values()):
            self._disarm_all(live)
        self._live.clear()
        await self.hub.close_all("server shutting down")
        await self.webhooks.aclose()

    # Replica -------------------------------------------------------------------------------

    def _make_replica(self, conversation: SandboxConversation, room: Room) -> SimulatedReplica:
        persona = conversation.persona
        context = "\n".join(
            part.strip()
            for part in (persona.context, conversation.conversational_context)
            if part and part.strip()
        )
        tools = [
            ToolSpec(tool.function.name, dict(tool.function.parameters)) for tool in persona.tools
        ]
        responder = Responder(
            persona_name=persona.persona_name or "your sandbox replica",
            context=context,
            tools=tools,
            greeting=getattr(persona, "custom_greeting", None),
        )
        cid = conversation.conversation_id
        llm: CustomLLM | None = None
        config = CustomLLMConfig.from_persona(persona)
        if config is not None:
            llm = CustomLLM(config, limits=self.llm_limits)
            logger.info(
                "conversation %s: persona %s answers with its own LLM at %s (model %s)",
                cid,
                persona.persona_id,
                config.shown_endpoint,
                config.model or "not named",
            )
        return SimulatedReplica(
            room,
            conversation_id=cid,
            responder=responder,
            replica_id=conversation.replica_id,
            custom_greeting=conversation.custom_greeting,
            system_prompt=persona.system_prompt,
            words_per_second=self.words_per_second,
            twins=self.twins,
            perception=persona.perception_enabled,
            tool_timeout=self.tool_timeout,
            llm=llm,
        )

    # Timers --------------------------------------------------------------------------------

    def _on_presence(self, live: _Live, presence: Presence) -> None:
        participant = presence.participant
        if participant.is_replica:
            return
        cid = live.conversation.conversation_id
        if cid not in self._live:
            return
        if presence.kind == "joined":
            live.present.add(participant.id)
            self._disarm(live, "participant_absent_timeout")
            self._disarm(live, "participant_left_timeout")
            return
        live.present.discard(participant.id)
        if not live.present:
            self._arm(
                live,
                "participant_left_timeout",
                live.conversation.properties.participant_left_timeout,
                PARTICIPANT_LEFT_TIMEOUT_REACHED,
            )

    def _arm(self, live: _Live, name: str, seconds: float | None, reason: str) -> None:
        self._disarm(live, name)
        if seconds is None:
            return
        cid = live.conversation.conversation_id
        live.timers[name] = asyncio.get_running_loop().create_task(
            self._fire(cid, float(seconds), reason), name=f"{name}-{cid}"
        )

    def _disarm(self, live: _Live, name: str) -> None:
        task = live.timers.pop(name, None)
        if task is not None and task is not asyncio.current_task():
            task.cancel()

    def _disarm_all(self, live: _Live) -> None:
        for name in list(live.timers):
            self._disarm(live, name)

    async def _fire(self, conversation_id: str, seconds: float, reason: str) -> None:
        await asyncio.sleep(max(seconds, 0.0))
        live = self._live.get(conversation_id)
        if live is None:
            return
        # Detach from the timers first, so `stop` (called back by the registry) cannot cancel
        # the task that is ending the conversation.
        for name, task in list(live.timers.items()):
            if task is asyncio.current_task():
                del live.timers[name]
        logger.info("conversation %s ends: %s", conversation_id, reason)
        registry = self._registry_ref()
        if registry is None:
            await self.stop(live.conversation, reason)
            return
        try:
            result = registry.end_conversation(conversation_id, reason=reason)
            if inspect.isawaitable(result):
                await result
        except Exception:
            logger.exception("ending conversation %s (%s) failed", conversation_id, reason)

    # Webhooks ------------------------------------------------------------------------------

    def _webhook(
        self, conversation: SandboxConversation, cls: Callable[..., Webhook], properties: Any
    ) -> None:
        """Record a webhook-shaped event and POST it when the conversation has a callback URL."""
        url = conversation.callback_url
        webhook = cls(
            conversation_id=conversation.conversation_id,
            timestamp=datetime.now(UTC),
            webhook_url=url,
            properties=properties,
        )
        registry = self._registry_ref()
        if registry is not None:
            registry.record_event(conversation.conversation_id, webhook.to_message())
        if url:
            self.webhooks.send(url, webhook)
