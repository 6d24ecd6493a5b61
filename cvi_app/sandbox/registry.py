"""The sandbox's in-memory state: conversations, personas and replicas, and their rules.

The REST API (`rest.py`) calls it for every request; the runtime (rooms, simulated replica,
timers, webhooks) is plugged in through `ConversationRuntime` and calls back
`end_conversation` (timeouts) and `record_event` (the webhooks it sent, for `?verbose=true`).
Every mutation is a short synchronous section under a lock, so the registry is safe to use
from asyncio tasks and from other threads (tests).
"""

from __future__ import annotations

import copy
import logging
import threading
from collections.abc import Mapping, Sequence
from typing import Any, Literal, Protocol

import jsonpatch
from pydantic import ValidationError

from cvi_app.sandbox.catalog import (
    DEFAULT_PERSONA_ID,
    example_personas,
    stock_personas,
    stock_replicas,
)
from cvi_app.sandbox.faults import FaultInjector
from cvi_app.sandbox.models import (
    SandboxConversation,
    new_conversation_id,
    new_meeting_token,
    new_persona_id,
    persona_document,
    utc_now,
)
from cvi_app.tavus.models import (
    ConversationCreate,
    PatchOperation,
    Persona,
    PersonaCreate,
    Replica,
)

__all__ = [
    "CONCURRENCY_LIMIT_MESSAGE",
    "ConcurrencyLimitError",
    "ConversationRegistry",
    "ConversationRuntime",
    "InvalidRequestError",
    "NullRuntime",
    "PatchFormatError",
    "RuntimeStartError",
    "SandboxError",
    "UnknownIdError",
]

logger = logging.getLogger(__name__)

CONCURRENCY_LIMIT_MESSAGE = "User has reached maximum concurrent conversations"
PATCH_FORMAT_MESSAGE = "Invalid JSON patch format"
DELETED_ROOM_REASON = "daily_room_has_been_deleted"
START_FAILED_REASON = "sandbox_runtime_failed_to_start"


class SandboxError(Exception):
    """A request the sandbox refuses; the REST API answers `status_code` `{body_key: message}`."""

    status_code = 400
    body_key = "error"


class InvalidRequestError(SandboxError):
    """400: the request is malformed or refers to something unusable."""


class ConcurrencyLimitError(SandboxError):
    """400: too many active conversations (Tavus's wording, so clients recognise it)."""


class PatchFormatError(SandboxError):
    """422: the body is not a JSON Patch document; Tavus answers with a `message`."""

    status_code = 422
    body_key = "message"

    def __init__(self, detail: str) -> None:
        super().__init__(f"{PATCH_FORMAT_MESSAGE}: {detail}")


class UnknownIdError(SandboxError):
    """404: no conversation, persona or replica with that id."""

    status_code = 404


class RuntimeStartError(SandboxError):
    """500: the runtime could not start the conversation (it was ended again)."""

    status_code = 500


class ConversationRuntime(Protocol):
    """What brings a conversation to life; implemented by the sandbox runtime."""

    async def start(self, conversation: SandboxConversation) -> None:
        """Open the room, launch the simulated replica, start the timers."""
        ...

    async def stop(self, conversation: SandboxConversation, reason: str) -> None:
        """Close the room, stop the replica and timers, send the shutdown webhooks."""
        ...


class NullRuntime:
    """A runtime that does nothing: for exercising the REST layer on its own."""

    async def start(self, conversation: SandboxConversation) -> None:
        """Do nothing."""

    async def stop(self, conversation: SandboxConversation, reason: str) -> None:
        """Do nothing."""


class ConversationRegistry:
    """In-memory conversations, personas and replicas, seeded with the stock catalog.

    Args:
        api_key: The only `x-api-key` the REST API accepts (required: a blank key is refused,
            so the API is never open to any caller).
        max_concurrent: How many active conversations may exist at once.
        runtime: What starts and stops conversations; a `NullRuntime` when None. It may also
            be assigned later (`registry.runtime = ...`), since a runtime usually needs the
            registry first.

    Attributes:
        faults: Queue responses for upcoming requests (tests; see `FaultInjector.inject`).
    """

    def __init__(
        self,
        *,
        api_key: str,
        max_concurrent: int = 10,
        runtime: ConversationRuntime | None = None,
    ) -> None:
        if max_concurrent < 1:
            raise ValueError("max_concurrent must be at least 1")
        if not api_key.strip():
            raise ValueError("api_key must not be blank")
        self.api_key = api_key.strip()
        self.max_concurrent = max_concurrent
        self.runtime: ConversationRuntime = runtime if runtime is not None else NullRuntime()
        self.faults = FaultInjector()
        self._lock = threading.RLock()
        self._conversations: dict[str, SandboxConversation] = {}
        stock = stock_personas()
        self._personas: dict[str, Persona] = {
            p.persona_id: p for p in [*stock, *example_personas()]
        }
        self._replicas: dict[str, Replica] = {r.replica_id: r for r in stock_replicas()}
        self._stock_persona_ids = frozenset(p.persona_id for p in stock)

    def __repr__(self) -> str:
        return (
            f"ConversationRegistry(conversations={len(self._conversations)}, "
            f"max_concurrent={self.max_concurrent})"
        )

    # --- conversations --------------------------------------------------------------------

    async def create_conversation(
        self, request: ConversationCreate, *, rooms_base_url: str
    ) -> SandboxConversation:
        """Create a conversation and start it (unless `test_mode`, which creates it ended).

        Args:
            request: The validated body of `POST /conversations`.
            rooms_base_url: Where the sandbox serves rooms, ending in `/rooms/`; the
                conversation's URL is this plus its id.

        Raises:
            InvalidRequestError: Unknown or unusable persona or replica.
            ConcurrencyLimitError: `max_concurrent` conversations are already active.
            RuntimeStartError: The runtime failed to start it (it is then ended).
        """
        persona = self._resolve_persona(request.persona_id)
        replica = self._resolve_replica(request.replica_id or persona.default_replica_id)
        conversation_id = new_conversation_id()
        require_auth = request.require_auth or request.properties.require_auth
        now = utc_now()
        with self._lock:
            if not request.test_mode and self._active_count() >= self.max_concurrent:
                raise ConcurrencyLimitError(CONCURRENCY_LIMIT_MESSAGE)
            conversation = SandboxConversation(
                conversation_id=conversation_id,
                conversation_name=request.conversation_name or "New Conversation",
                conversation_url=f"{rooms_base_url}{conversation_id}",
                status="ended" if request.test_mode else "active",
                callback_url=request.callback_url,
                created_at=now,
                updated_at=now,
                ended_at=now if request.test_mode else None,
                replica_id=replica.replica_id,
                replica=replica.model_copy(deep=True),
                persona_id=persona.persona_id,
                persona=persona.model_copy(deep=True),
                conversational_context=request.conversational_context,
                custom_greeting=request.custom_greeting,
                test_mode=request.test_mode,
                require_auth=require_auth,
                meeting_token=new_meeting_token() if require_auth else None,
                max_participants=request.max_participants,
                audio_only=request.audio_only,
                properties=request.properties.model_copy(deep=True),
            )
            self._conversations[conversation_id] = conversation
        if request.test_mode:
            return conversation
        try:
            await self.runtime.start(conversation)
        except Exception as exc:
            logger.exception("Sandbox runtime failed to start conversation %s", conversation_id)
            await self.end_conversation(conversation_id, reason=START_FAILED_REASON)
            raise RuntimeStartError(
                f"Could not start conversation {conversation_id}: {type(exc).__name__}"
            ) from exc
        return conversation

    def find_conversation(self, conversation_id: str) -> SandboxConversation | None:
        """The conversation with this id, or None (also for deleted ones)."""
        with self._lock:
            conversation = self._conversations.get(conversation_id)
        return None if conversation is None or conversation.deleted else conversation

    def get_conversation(self, conversation_id: str) -> SandboxConversation:
        """The conversation with this id.

        Raises:
            UnknownIdError: No such conversation (or it was deleted).
        """
        conversation = self.find_conversation(conversation_id)
        if conversation is None:
            raise UnknownIdError(f"Conversation {conversation_id} not found")
        return conversation

    def list_conversations(
        self, *, limit: int = 10, page: int = 1, status: str | None = None
    ) -> tuple[list[SandboxConversation], int]:
        """One page of conversations, newest first, and how many match in all.

        Args:
            limit: Page size (1 or more).
            page: Page number, from 1.
            status: Only conversations with this status (`active`, `ended`) when given.
        """
        with self._lock:
            matching = [
                c
                for c in self._conversations.values()
                if not c.deleted and (status is None or c.status == status)
            ]
        matching.sort(key=lambda c: c.created_at, reverse=True)
        return _page(matching, limit, page), len(matching)

    def active_conversations(self) -> list[SandboxConversation]:
        """Every conversation that is live right now."""
        with self._lock:
            return [c for c in self._conversations.values() if c.is_active]

    async def end_conversation(self, conversation_id: str, *, reason: str) -> SandboxConversation:
        """End a conversation and let the runtime stop it; ending twice changes nothing.

        Args:
            conversation_id: Which one.
            reason: The `shutdown_reason`, e.g. `end_conversation_endpoint_hit` or
                `max_call_duration reached`.

        Raises:
            UnknownIdError: No such conversation.
        """
        with self._lock:
            conversation = self.get_conversation(conversation_id)
            if conversation.status == "ended":
                return conversation
            now = utc_now()
            conversation.status = "ended"
            conversation.shutdown_reason = reason
            conversation.ended_at = now
            conversation.updated_at = now
        try:
            await self.runtime.stop(conversation, reason)
        except Exception:
            # The conversation is ended for the API either way; a failed teardown is logged.
            logger.exception("Sandbox runtime failed to stop conversation %s", conversation_id)
        return conversation

    async def delete_conversation(self, conversation_id: str, *, hard: bool = False) -> None:
        """Delete a conversation, ending it first if it is live.

        A soft delete hides it from the API; a hard delete also forgets it (and its events),
        and may follow a soft delete.

        Raises:
            UnknownIdError: No such conversation (or, for a soft delete, already deleted).
        """
        with self._lock:
            conversation = self._conversations.get(conversation_id)
            if conversation is None or (conversation.deleted and not hard):
                raise UnknownIdError(f"Conversation {conversation_id} not found")
        if conversation.status == "active":
            await self.end_conversation(conversation_id, reason=DELETED_ROOM_REASON)
        with self._lock:
            if hard:
                self._conversations.pop(conversation_id, None)
            else:
                conversation.deleted = True
                conversation.updated_at = utc_now()

    def record_event(self, conversation_id: str, event: Mapping[str, Any]) -> bool:
        """Append a snapshot of an event to a conversation's verbose `events`.

        The runtime calls this for every webhook it sends (`system.replica_joined`,
        `system.shutdown`, `application.transcription_ready`, ...), as Tavus's verbose record
        holds them; the registry records no events by itself.

        Returns:
            False (and nothing recorded) when the conversation no longer exists.
        """
        snapshot = copy.deepcopy(dict(event))
        with self._lock:
            conversation = self._conversations.get(conversation_id)
            if conversation is None:
                logger.debug("Event for unknown conversation %s dropped", conversation_id)
                return False
            conversation.events.append(snapshot)
        return True

    # --- personas -------------------------------------------------------------------------

    def list_personas(
        self, *, limit: int = 10, page: int = 1, persona_type: str | None = None
    ) -> tuple[list[Persona], int]:
        """One page of personas (stock ones first, then by creation) and the total."""
        with self._lock:
            matching = [
                p
                for p in self._personas.values()
                if persona_type is None or p.persona_type == persona_type
            ]
        return _page(matching, limit, page), len(matching)

    def get_persona(self, persona_id: str) -> Persona:
        """The persona with this id.

        Raises:
            UnknownIdError: No such persona.
        """
        with self._lock:
            persona = self._personas.get(persona_id)
        if persona is None:
            raise UnknownIdError(f"Persona {persona_id} not found")
        return persona

    def create_persona(self, request: PersonaCreate) -> Persona:
        """Store a new persona (type `user`).

        Raises:
            InvalidRequestError: Its `default_replica_id` names no replica.
        """
        if request.default_replica_id is not None:
            self._resolve_replica(request.default_replica_id, field="default_replica_id")
        now = utc_now()
        fields = request.model_dump(exclude_unset=True)
        fields.pop("persona_id", None)
        persona = Persona.model_validate(
            {
                **fields,
                "persona_id": new_persona_id(),
                "persona_type": "user",
                "pipeline_mode": request.pipeline_mode or "full",
                "created_at": now,
                "updated_at": now,
            }
        )
        with self._lock:
            self._personas[persona.persona_id] = persona
        return persona

    def patch_persona(
        self,
        persona_id: str,
        operations: Sequence[PatchOperation],
        *,
        names: Literal["persona", "pal"] = "persona",
    ) -> tuple[Persona, bool]:
        """Apply JSON Patch operations to a persona's document and store the result.

        Args:
            persona_id: Which persona.
            operations: RFC 6902 operations, with paths in the document as the API shows it.
            names: Which field names the paths use: `persona` (`/persona_name`) or `pal`
                (`/pal_name`), matching the endpoint the patch came through.

        Returns:
            The persona, and whether the patch changed it (no operations change nothing).

        Raises:
            UnknownIdError: No such persona.
            InvalidRequestError: A stock persona, an operation that does not apply, a
                changed id, or a result that is not a valid persona or passes a limit of
                `PersonaCreate` (a patch is held to the same bounds as a new persona).
        """
        with self._lock:
            current = self.get_persona(persona_id)
            if persona_id in self._stock_persona_ids:
                raise InvalidRequestError(f"Stock persona {persona_id} cannot be modified")
            document = persona_document(current, pal_names=names == "pal")
            patch = jsonpatch.JsonPatch([op.to_json() for op in operations])
            try:
                patched = patch.apply(document)
            except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException) as exc:
                raise InvalidRequestError(f"Invalid patch: {exc}") from exc
            if patched == document:
                return current, False
            if not isinstance(patched, dict):
                raise InvalidRequestError("Invalid patch: the persona must stay an object")
            try:
                # The limits of a new persona hold for a patched one too.
                PersonaCreate.model_validate(patched)
                updated = Persona.model_validate(patched)
            except ValidationError as exc:
                raise InvalidRequestError(f"Invalid persona after patch: {_problems(exc)}") from exc
            if updated.persona_id != persona_id:
                raise InvalidRequestError("The persona's id cannot be changed")
            updated.updated_at = utc_now()
            self._personas[persona_id] = updated
        return updated, True

    def delete_persona(self, persona_id: str) -> None:
        """Delete a persona (live conversations keep their own copy).

        Raises:
            UnknownIdError: No such persona.
            InvalidRequestError: It is a stock persona.
        """
        with self._lock:
            self.get_persona(persona_id)
            if persona_id in self._stock_persona_ids:
                raise InvalidRequestError(f"Stock persona {persona_id} cannot be deleted")
            del self._personas[persona_id]

    # --- replicas -------------------------------------------------------------------------

    def list_replicas(
        self,
        *,
        limit: int = 10,
        page: int = 1,
        replica_type: str | None = None,
        replica_ids: frozenset[str] | None = None,
        model_name: str | None = None,
    ) -> tuple[list[Replica], int]:
        """One page of replicas and the total.

        Args:
            limit: Page size (1 or more).
            page: Page number, from 1.
            replica_type: Only `user` or only `system` (stock) replicas when given.
            replica_ids: Only these replicas when given.
            model_name: Only replicas trained on this model (`phoenix-3`, ...) when given.
        """
        with self._lock:
            matching = [
                r
                for r in self._replicas.values()
                if (replica_type is None or r.replica_type == replica_type)
                and (replica_ids is None or r.replica_id in replica_ids)
                and (model_name is None or r.model_name == model_name)
            ]
        return _page(matching, limit, page), len(matching)

    def get_replica(self, replica_id: str) -> Replica:
        """The replica with this id.

        Raises:
            UnknownIdError: No such replica.
        """
        with self._lock:
            replica = self._replicas.get(replica_id)
        if replica is None:
            raise UnknownIdError(f"Replica {replica_id} not found")
        return replica

    # --- internals ------------------------------------------------------------------------

    def _active_count(self) -> int:
        return sum(1 for c in self._conversations.values() if c.is_active)

    def _resolve_persona(self, persona_id: str | None) -> Persona:
        with self._lock:
            persona = self._personas.get(persona_id or DEFAULT_PERSONA_ID)
        if persona is None:
            raise InvalidRequestError(f"Invalid persona_id: persona {persona_id} not found")
        return persona

    def _resolve_replica(self, replica_id: str | None, *, field: str = "replica_id") -> Replica:
        if replica_id is None:
            raise InvalidRequestError(
                "replica_id is required when the persona has no default_replica_id"
            )
        with self._lock:
            replica = self._replicas.get(replica_id)
        if replica is None:
            raise InvalidRequestError(f"Invalid {field}: replica {replica_id} not found")
        if replica.status != "completed":
            raise InvalidRequestError(
                f"Replica {replica_id} is not ready (status {replica.status})"
            )
        return replica


def _page(items: list[Any], limit: int, page: int) -> list[Any]:
    start = (page - 1) * limit
    return items[start : start + limit]


def _problems(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(part) for part in error['loc']) or 'body'}: {error['msg']}"
        for error in exc.errors()
    )
