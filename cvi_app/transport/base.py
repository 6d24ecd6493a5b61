"""The room transport interface: one participant's seat in a conversation's room.

A transport joins a room as a participant, sends app-messages into it and reports what happens
there (app-messages with their sender, participants joining and leaving, the connection dropping
and coming back, the room closing) to handlers the caller registers. Daily (`daily.py`) and the sandbox room (`local.py`) implement
it alike, so everything above the transport runs unchanged in both modes.

User handlers each run in their own asyncio task; an exception in one is logged with context
and never reaches the transport or the other handlers.
"""

from __future__ import annotations

import abc
import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from cvi_app.protocol.common import MAX_APP_MESSAGE_BYTES, encode_message
from cvi_app.protocol.interactions import Interaction

__all__ = [
    "REPLICA_MARKER",
    "AppMessageHandler",
    "ClosedHandler",
    "JoinError",
    "MessageTooLargeError",
    "NotJoinedError",
    "OutgoingMessage",
    "Participant",
    "ParticipantHandler",
    "ReconnectedHandler",
    "ReconnectingHandler",
    "RoomTransport",
    "SendError",
    "TransportError",
    "TransportParams",
    "looks_like_replica",
]

logger = logging.getLogger(__name__)

REPLICA_MARKER = "tavus-replica"
"""Substring of the replica participant's user_id (and, on Daily, usually its user_name)."""

AppMessageHandler = Callable[[dict[str, Any], str], Awaitable[None]]
"""`(message data, sender participant id)`."""
ParticipantHandler = Callable[["Participant"], Awaitable[None]]
ClosedHandler = Callable[[str], Awaitable[None]]
"""`(reason)`: the room closed, the call ended or failed; not called after `leave()`."""
ReconnectingHandler = Callable[[str], Awaitable[None]]
"""`(reason)`: the connection dropped while the room is still open; rejoining is under way."""
ReconnectedHandler = Callable[["Participant"], Awaitable[None]]
"""`(participant)`: back in the room after a drop, as this (new) participant."""
OutgoingMessage = Interaction | dict[str, Any]
"""What `send()` takes: an interaction (its wire JSON made and checked when it was built) or any
JSON-ready dict (encoded and checked by the transport)."""


class TransportError(Exception):
    """A room operation failed; the message says which and why."""


class JoinError(TransportError):
    """Joining the room failed (refused, unreachable, or timed out)."""


class NotJoinedError(TransportError):
    """The operation needs a joined room (not yet joined, left, or the room closed)."""


class SendError(TransportError):
    """The room refused or failed to deliver an app-message."""


class MessageTooLargeError(SendError):
    """The app-message is over the room's 4 KB limit (split it before sending)."""


class Participant(BaseModel):
    """Someone in the room: the local participant, the replica, or anyone else."""

    model_config = ConfigDict(frozen=True)

    id: str = Field(min_length=1)
    user_name: str = ""
    user_id: str | None = None
    is_replica: bool = False


class TransportParams(BaseModel):
    """Where and as whom to join."""

    model_config = ConfigDict(frozen=True)

    room_url: str = Field(min_length=1, description="The conversation_url (Daily or sandbox).")
    meeting_token: str | None = Field(default=None, description="Needed for private rooms.")
    user_name: str = "cvi-studio"


def looks_like_replica(*, user_id: str | None, user_name: str | None) -> bool:
    """Whether a participant's ids mark it as the Tavus replica.

    Args:
        user_id: The participant's user id, if known.
        user_name: The participant's display name, if known.

    Returns:
        True when either contains `tavus-replica` (case-insensitive).
    """
    return any(REPLICA_MARKER in (value or "").lower() for value in (user_id, user_name))


class RoomTransport(abc.ABC):
    """One participant in a conversation's room.

    Register handlers first, then `join()`; `send()` app-messages while joined; `leave()` when
    done (safe to call twice, and after the room closed). `on_closed` handlers run once, when
    the room ends the call for us (closed, call ended, connection lost for good or a fatal
    error), not after our own `leave()`. A transport that rejoins by itself after a dropped
    connection reports it with `on_reconnecting` and `on_reconnected`.
    """

    def __init__(self, params: TransportParams) -> None:
        self.params = params
        self._app_message_handlers: list[AppMessageHandler] = []
        self._joined_handlers: list[ParticipantHandler] = []
        self._left_handlers: list[ParticipantHandler] = []
        self._closed_handlers: list[ClosedHandler] = []
        self._reconnecting_handlers: list[ReconnectingHandler] = []
        self._reconnected_handlers: list[ReconnectedHandler] = []
        self._participants: dict[str, Participant] = {}
        self._local: Participant | None = None
        self._closed_reported = False
        self._handler_tasks: set[asyncio.Task[None]] = set()

    # -- operations ---------------------------------------------------------------------------

    @abc.abstractmethod
    async def join(self) -> Participant:
        """Join the room.

        Returns:
            This participant, as the room knows it.

        Raises:
            JoinError: the room refused us, could not be reached, or did not answer in time.
        """

    @abc.abstractmethod
    async def leave(self) -> None:
        """Leave the room and release what the transport holds (idempotent)."""

    @abc.abstractmethod
    async def send(self, message: OutgoingMessage, to: str = "*") -> None:
        """Send an app-message to everyone else (`"*"`) or to one participant id.

        Args:
            message: An interaction, sent as its ready wire JSON (not encoded or measured
                again), or any JSON-ready dict.
            to: `"*"` or a participant id.

        Raises:
            NotJoinedError: not in the room.
            MessageTooLargeError: over the 4 KB app-message limit.
            SendError: the room refused it or delivery failed.
        """

    # -- state --------------------------------------------------------------------------------

    @property
    def local_participant(self) -> Participant | None:
        """The participant this transport joined as (None before joining)."""
        return self._local

    def participants(self) -> dict[str, Participant]:
        """Everyone in the room by participant id, this participant included."""
        return dict(self._participants)

    def is_replica(self, sender_id: str) -> bool:
        """Whether `sender_id` is the replica: the only participant trusted to speak for Tavus.

        Args:
            sender_id: The sender of an app-message.

        Returns:
            True only for a participant in the room that carries the replica marker.
        """
        participant = self._participants.get(sender_id)
        return participant is not None and participant.is_replica

    # -- handler registration (each returns the handler, so it can be used as a decorator) ----

    def on_app_message(self, handler: AppMessageHandler) -> AppMessageHandler:
        """Call `handler(data, sender_id)` for each app-message someone else sends."""
        self._app_message_handlers.append(handler)
        return handler

    def on_participant_joined(self, handler: ParticipantHandler) -> ParticipantHandler:
        """Call `handler(participant)` when someone else joins (or is there when we join)."""
        self._joined_handlers.append(handler)
        return handler

    def on_participant_left(self, handler: ParticipantHandler) -> ParticipantHandler:
        """Call `handler(participant)` when someone else leaves."""
        self._left_handlers.append(handler)
        return handler

    def on_closed(self, handler: ClosedHandler) -> ClosedHandler:
        """Call `handler(reason)` once when the room ends the call for us."""
        self._closed_handlers.append(handler)
        return handler

    def on_reconnecting(self, handler: ReconnectingHandler) -> ReconnectingHandler:
        """Call `handler(reason)` when the connection drops and the transport tries to rejoin."""
        self._reconnecting_handlers.append(handler)
        return handler

    def on_reconnected(self, handler: ReconnectedHandler) -> ReconnectedHandler:
        """Call `handler(participant)` once back in the room after a dropped connection."""
        self._reconnected_handlers.append(handler)
        return handler

    # -- for implementations ------------------------------------------------------------------

    def _set_local(self, participant: Participant) -> None:
        self._local = participant
        self._participants[participant.id] = participant

    def _emit_app_message(self, data: dict[str, Any], sender_id: str) -> None:
        for handler in self._app_message_handlers:
            self._spawn(handler, (data, sender_id), f"app-message from {sender_id}")

    def _emit_participant_joined(self, participant: Participant) -> None:
        known = participant.id in self._participants
        self._participants[participant.id] = participant
        if known or (self._local is not None and participant.id == self._local.id):
            return
        for handler in self._joined_handlers:
            self._spawn(handler, (participant,), f"participant-joined {participant.id}")

    def _emit_participant_left(self, participant: Participant) -> None:
        known = self._participants.pop(participant.id, None)
        for handler in self._left_handlers:
            self._spawn(handler, (known or participant,), f"participant-left {participant.id}")

    def _emit_closed(self, reason: str) -> None:
        if self._closed_reported:
            return
        self._closed_reported = True
        logger.info("%s: room closed for %s: %s", type(self).__name__, self._who(), reason)
        for handler in self._closed_handlers:
            self._spawn(handler, (reason,), "room closed")

    def _emit_reconnecting(self, reason: str) -> None:
        logger.warning(
            "%s: connection to the room lost for %s (%s); rejoining",
            type(self).__name__,
            self._who(),
            reason,
        )
        for handler in self._reconnecting_handlers:
            self._spawn(handler, (reason,), "reconnecting")

    def _emit_reconnected(self) -> None:
        assert self._local is not None
        logger.info("%s: back in the room as %s", type(self).__name__, self._local.id)
        for handler in self._reconnected_handlers:
            self._spawn(handler, (self._local,), "reconnected")

    def _rejoined(self, local: Participant, present: list[Participant]) -> None:
        """Take the room's view after rejoining: a new local participant, and whoever is there.

        Participants who left while we were away are reported as left, newcomers as joined;
        those still there are not reported again.
        """
        previous = dict(self._participants)
        if self._local is not None:
            previous.pop(self._local.id, None)
        self._participants = {}
        self._set_local(local)
        here = {participant.id for participant in present}
        for participant in previous.values():
            if participant.id not in here:
                self._emit_participant_left(participant)
        for participant in present:
            if participant.id in previous:
                self._participants[participant.id] = participant
            else:
                self._emit_participant_joined(participant)

    def _wire_json(self, message: OutgoingMessage) -> str:
        """The app-message as compact JSON text, within the 4 KB limit.

        An interaction's is the text made (and checked) when it was built; a dict is encoded
        and checked here, once.
        """
        if isinstance(message, Interaction):
            return _interaction_json(message)
        try:
            text, size = encode_message(message)
        except (TypeError, ValueError, RecursionError) as exc:
            raise SendError(f"app-message is not JSON-serialisable: {exc}") from exc
        if size > MAX_APP_MESSAGE_BYTES:
            raise MessageTooLargeError(
                f"app-message is {size} bytes; the limit is {MAX_APP_MESSAGE_BYTES} bytes"
            )
        return text

    def _spawn(
        self, handler: Callable[..., Awaitable[None]], args: tuple[Any, ...], what: str
    ) -> None:
        task = asyncio.get_running_loop().create_task(
            self._run_handler(handler, args, what), name=f"transport-handler {what}"
        )
        self._handler_tasks.add(task)
        task.add_done_callback(self._handler_tasks.discard)

    async def _run_handler(
        self, handler: Callable[..., Awaitable[None]], args: tuple[Any, ...], what: str
    ) -> None:
        try:
            await handler(*args)
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception(
                "%s handler %s failed on %s (participant %s, room %s)",
                type(self).__name__,
                getattr(handler, "__qualname__", repr(handler)),
                what,
                self._who(),
                self.params.room_url,
            )

    async def wait_handlers(self) -> None:
        """Wait until every handler started so far has finished (useful at teardown)."""
        while self._handler_tasks:
            await asyncio.gather(*list(self._handler_tasks), return_exceptions=True)

    def _who(self) -> str:
        return self._local.id if self._local is not None else self.params.user_name


def _interaction_json(interaction: Interaction) -> str:
    try:
        return interaction.to_json()
    except ValueError as exc:  # a ProtocolError, only for one made without validation
        raise SendError(f"the interaction cannot be sent: {exc}") from exc
