"""The home page: choosing a persona and replica, and starting a conversation."""

from __future__ import annotations

import logging

import reflex as rx
from pydantic import ValidationError
from sqlmodel import Session

from cvi_app.accounts.audit import record_action
from cvi_app.accounts.sessions import owner_for, resolve_caller
from cvi_app.config import get_settings
from cvi_app.live.manager import StartOptions, get_manager
from cvi_app.presentation.errors import describe_error, refusal_sentence
from cvi_app.sandbox.catalog import DEFAULT_PERSONA_ID
from cvi_app.state.app_state import AppState
from cvi_app.state.catalog import Catalog, conversation_title, fetch_catalog
from cvi_app.store import get_engine, run_in_transaction
from cvi_app.store.conversations import get_owned_conversation

logger = logging.getLogger(__name__)

DEFAULT = "default"
"""The pickers' value for "let the API choose" (Radix's select has no empty value)."""

SECONDS_FIELDS = ("max_call_duration", "participant_left_timeout", "participant_absent_timeout")


def _bounds(name: str) -> tuple[int, int]:
    """The least and greatest value the server accepts for a `StartOptions` field."""
    metadata = StartOptions.model_fields[name].metadata
    return (
        next(m.ge for m in metadata if hasattr(m, "ge")),
        next(m.le for m in metadata if hasattr(m, "le")),
    )


BOUNDS = {name: _bounds(name) for name in SECONDS_FIELDS}
"""Each number input's bounds: the same the server checks (`StartOptions`)."""


def _default_persona_id() -> str:
    """The persona the API uses when none is given: the sandbox's default; Tavus uses none."""
    return DEFAULT_PERSONA_ID if get_settings().mode == "sandbox" else ""


def _default_persona(catalog: Catalog) -> str:
    """The persona picker's "Default", naming the persona it stands for."""
    persona_id = _default_persona_id()
    return f"Default ({catalog.persona(persona_id)})" if persona_id else "Default (no persona)"


async def _live(ids: list[str], owner: str, catalog: Catalog) -> list[dict[str, str]]:
    """The browser's live conversations, with their titles and who is in them (from the store).

    When the store cannot be read, each shows as its id.
    """

    def read(session: Session) -> list[dict[str, str]]:
        rows = [get_owned_conversation(session, conversation_id=cid, owner=owner) for cid in ids]
        return [
            {
                "id": row.conversation_id,
                "title": conversation_title(
                    row.name, replica=catalog.replica(row.replica_id), created=row.created_at
                ),
                "who": f"{catalog.persona(row.persona_id)} · {catalog.replica(row.replica_id)}",
            }
            for row in rows
            if row is not None
        ]

    try:
        return await run_in_transaction(get_engine(), read)
    except Exception:
        logger.exception("home: reading the live conversations failed")
        return [{"id": cid, "title": cid, "who": ""} for cid in ids]


class HomeState(rx.State):
    """The start form and this browser's live conversations."""

    personas: list[dict[str, str]] = []
    replicas: list[dict[str, str]] = []
    default_persona: str = "Default"
    persona_id: str = DEFAULT
    replica_id: str = DEFAULT
    name: str = ""
    context: str = ""
    greeting: str = ""
    max_call_duration: str = "3600"
    participant_left_timeout: str = "60"
    participant_absent_timeout: str = "300"
    starting: bool = False
    catalog_error: str = ""
    live: list[dict[str, str]] = []
    default_persona_id: str = ""

    @rx.event(background=True)
    async def load(self):
        """Fetch personas and replicas from the API (sandbox or Tavus)."""
        manager = get_manager()
        try:
            catalog = await fetch_catalog()
        except Exception as exc:
            async with self:
                self.catalog_error = describe_error(exc)
            return
        async with self:
            credentials = (await self.get_state(AppState)).credentials()
        owner = await owner_for(credentials, "drive")
        live = await _live(await manager.live_conversations(owner=owner), owner, catalog)
        async with self:
            self.live = live
            self.catalog_error = ""
            self.default_persona = _default_persona(catalog)
            self.personas = [
                {
                    "id": pid,
                    "name": name,
                    "replica": catalog.replica(catalog.default_replicas.get(pid)),
                }
                for pid, name in catalog.personas.items()
            ]
            self.replicas = [{"id": rid, "name": name} for rid, name in catalog.replicas.items()]
            self.default_persona_id = _default_persona_id()

    @rx.var(cache=True)
    def persona_choices(self) -> list[dict[str, str]]:
        """The persona picker's items: "Default", naming the persona it stands for, then all."""
        return [{"id": DEFAULT, "name": self.default_persona}, *self.personas]

    @rx.var(cache=True)
    def replica_choices(self) -> list[dict[str, str]]:
        """The replica picker's items: "Default", naming the chosen persona's replica, then all."""
        persona_id = self.default_persona_id if self.persona_id == DEFAULT else self.persona_id
        replica = next((p["replica"] for p in self.personas if p["id"] == persona_id), "")
        default = f"Default ({replica}, the persona's)" if replica else "Default (the persona's)"
        return [{"id": DEFAULT, "name": default}, *self.replicas]

    @rx.event
    def set_persona_id(self, value: str) -> None:
        """Choose the persona."""
        self.persona_id = value

    @rx.event
    def set_replica_id(self, value: str) -> None:
        """Choose the replica."""
        self.replica_id = value

    @rx.event
    def set_name(self, value: str) -> None:
        """Name the conversation."""
        self.name = value

    @rx.event
    def set_context(self, value: str) -> None:
        """Give the replica context."""
        self.context = value

    @rx.event
    def set_greeting(self, value: str) -> None:
        """Choose what the replica says first."""
        self.greeting = value

    @rx.event
    def set_max_call_duration(self, value: str) -> None:
        """Longest the call may last, in seconds."""
        self.max_call_duration = value

    @rx.event
    def set_participant_left_timeout(self, value: str) -> None:
        """Seconds the call lasts after the last person leaves."""
        self.participant_left_timeout = value

    @rx.event
    def set_participant_absent_timeout(self, value: str) -> None:
        """Seconds the call waits for a first person to join."""
        self.participant_absent_timeout = value

    @rx.event(background=True)
    async def start(self):
        """Start a conversation with the chosen options and open its room."""
        async with self:
            if self.starting:
                return
            self.starting = True
            credentials = (await self.get_state(AppState)).credentials()
            address = self.router.session.client_ip or None
            try:
                options = StartOptions(
                    persona_id=None if self.persona_id == DEFAULT else self.persona_id,
                    replica_id=None if self.replica_id == DEFAULT else self.replica_id,
                    name=self.name,
                    context=self.context,
                    greeting=self.greeting,
                    max_call_duration=self.max_call_duration or "3600",
                    participant_left_timeout=self.participant_left_timeout or "0",
                    participant_absent_timeout=self.participant_absent_timeout or "300",
                )
            except ValidationError as exc:
                self.starting = False
                return rx.toast.error(_invalid(exc))
        caller = await resolve_caller(credentials)
        if caller.accounts_on and not caller.may("drive"):
            async with self:
                self.starting = False
            return rx.toast.error(refusal_sentence(caller, "drive"))
        try:
            conversation = await get_manager().start_conversation(
                owner=caller.owner_for("drive"),
                options=options,
                address=address,
                started_by=caller.signed_in.email if caller.signed_in else None,
            )
            await record_action(
                caller, "started", conversation_id=conversation.conversation_id, detail=options.name
            )
        except Exception as exc:
            logger.warning("starting a conversation failed: %s", exc)
            async with self:
                self.starting = False
            return rx.toast.error(f"Could not start the conversation: {describe_error(exc)}")
        async with self:
            # The name was this conversation's; the next one starts unnamed.
            self.starting, self.name = False, ""
        return rx.redirect(f"/room/{conversation.conversation_id}")


def _invalid(exc: ValidationError) -> str:
    """A start option the server refuses, as a sentence (with the bounds for the numbers)."""
    error = exc.errors()[0]
    name = str(error["loc"][0]) if error["loc"] else "options"
    label = name.replace("_", " ").capitalize()
    if name in BOUNDS:
        low, high = BOUNDS[name]
        return (
            f"{label} must be a whole number of seconds, greater than or equal to {low} "
            f"and at most {high}."
        )
    return f"{label}: {error['msg']}"
