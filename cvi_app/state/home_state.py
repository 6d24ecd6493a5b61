"""The home page: choosing a persona and replica, and starting a conversation."""

from __future__ import annotations

import logging

import reflex as rx
from pydantic import ValidationError

from cvi_app.live.manager import StartOptions, get_manager
from cvi_app.presentation.errors import describe_error
from cvi_app.state.app_state import AppState

logger = logging.getLogger(__name__)

# What the pickers show: at most this many choices, each name at most this long.
MAX_CHOICES = 100
MAX_NAME = 120


def _shown(name: str) -> str:
    """A name as the picker shows it: whole, or cut with an ellipsis."""
    return name if len(name) <= MAX_NAME else name[: MAX_NAME - 1] + "…"


class HomeState(rx.State):
    """The start form and this browser's live conversations."""

    personas: list[dict[str, str]] = []
    replicas: list[dict[str, str]] = []
    persona_id: str = ""
    replica_id: str = ""
    name: str = ""
    context: str = ""
    greeting: str = ""
    max_call_duration: str = "3600"
    participant_left_timeout: str = "60"
    participant_absent_timeout: str = "300"
    starting: bool = False
    catalog_error: str = ""
    live: list[str] = []

    @rx.event(background=True)
    async def load(self):
        """Fetch personas and replicas from the API (sandbox or Tavus)."""
        manager = get_manager()
        try:
            personas, replicas = await manager.catalog()
        except Exception as exc:
            async with self:
                self.catalog_error = describe_error(exc)
            return
        async with self:
            app = await self.get_state(AppState)
            self.live = manager.live_conversations(owner=app.ensure_owner())
            self.catalog_error = ""
            self.personas = [
                {"id": p.persona_id, "name": _shown(p.persona_name or p.persona_id)}
                for p in personas[:MAX_CHOICES]
            ]
            self.replicas = [
                {"id": r.replica_id, "name": _shown(r.replica_name or r.replica_id)}
                for r in replicas[:MAX_CHOICES]
            ]

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
            app = await self.get_state(AppState)
            owner = app.ensure_owner()
            address = self.router.session.client_ip or None
            try:
                options = StartOptions(
                    persona_id=self.persona_id or None,
                    replica_id=self.replica_id or None,
                    name=self.name,
                    context=self.context,
                    greeting=self.greeting,
                    max_call_duration=self.max_call_duration or "3600",
                    participant_left_timeout=self.participant_left_timeout or "0",
                    participant_absent_timeout=self.participant_absent_timeout or "300",
                )
            except ValidationError as exc:
                self.starting = False
                error = exc.errors()[0]
                field = str(error["loc"][0]).replace("_", " ") if error["loc"] else "options"
                return rx.toast.error(f"{field.capitalize()}: {error['msg']}")
        try:
            conversation = await get_manager().start_conversation(
                owner=owner, options=options, address=address
            )
        except Exception as exc:
            logger.warning("starting a conversation failed: %s", exc)
            async with self:
                self.starting = False
            return rx.toast.error(f"Could not start the conversation: {describe_error(exc)}")
        async with self:
            self.starting = False
        return rx.redirect(f"/room/{conversation.conversation_id}")
