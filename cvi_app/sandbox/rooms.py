"""The local room hub: one room per conversation, with the semantics of a Daily room's data channel.

Participants join over the room WebSocket (see `room_socket`) or in-process (`Room.join`).
App-messages go to everyone (`"*"`) or to one participant, never back to the sender, and are
limited to Daily's 4 KB. Every participant has its own bounded send queue drained by its own
task, so a slow client never holds up the room or anyone else in it.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import inspect
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

from cvi_app.protocol import MAX_APP_MESSAGE_BYTES, message_size
from cvi_app.transport.base import REPLICA_MARKER
from cvi_app.transport.local_frames import (
    ErrorFrame,
    JoinedFrame,
    ParticipantFrame,
    ParticipantInfo,
    ReceivedAppMessageFrame,
    RoomClosedFrame,
    ServerFrame,
)

__all__ = [
    "LocalParticipant",
    "MessageTooLargeError",
    "Presence",
    "Room",
    "RoomClosedError",
    "RoomError",
    "RoomHub",
    "UnknownParticipantError",
]

logger = logging.getLogger(__name__)

SEND_QUEUE_FRAMES = 1000
"""Frames a participant may have waiting before the room gives up on it."""

_CLOSE_GRACE_SECONDS = 2.0

_Callback = Callable[..., Awaitable[None] | None]


class RoomError(Exception):
    """A room refused an operation; the message says why."""


class RoomClosedError(RoomError):
    """The room was closed (its conversation ended)."""


class MessageTooLargeError(RoomError):
    """An app-message is over Daily's 4 KB limit."""


class UnknownParticipantError(RoomError):
    """An app-message was addressed to a participant who is not in the room."""


@dataclass(frozen=True, slots=True)
class Presence:
    """A participant joined or left a room (what presence listeners receive)."""

    kind: Literal["joined", "left"]
    participant: ParticipantInfo


class Member:
    """A participant's seat in a room: its identity and its own send queue and drain task.

    Subclasses say how a frame reaches the participant (`deliver`) and what happens at the end
    (`finish`).
    """

    def __init__(self, info: ParticipantInfo) -> None:
        self.info = info
        self._queue: asyncio.Queue[ServerFrame | None] = asyncio.Queue(SEND_QUEUE_FRAMES)
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    @property
    def id(self) -> str:
        """The participant id (a uuid)."""
        return self.info.id

    def start(self) -> None:
        """Start draining the send queue."""
        self._task = asyncio.get_running_loop().create_task(
            self._drain(), name=f"room-member-{self.id}"
        )

    def enqueue(self, frame: ServerFrame) -> None:
        """Queue a frame for this participant without waiting."""
        if self._stopping:
            return
        try:
            self._queue.put_nowait(frame)
        except asyncio.QueueFull:
            self.overflowed(frame)

    def stop(self) -> None:
        """Deliver what is queued, then finish (idempotent)."""
        if self._stopping:
            return
        self._stopping = True
        # With a full queue the sentinel is lost and `wait_stopped` cancels the drain instead.
        with contextlib.suppress(asyncio.QueueFull):
            self._queue.put_nowait(None)

    async def wait_stopped(self, grace: float = _CLOSE_GRACE_SECONDS) -> None:
        """Wait for the drain task to end, cancelling it after `grace` seconds."""
        task = self._task
        if task is None or task is asyncio.current_task():
            return
        done, _ = await asyncio.wait({task}, timeout=grace)
        if not done:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _drain(self) -> None:
        try:
            while (frame := await self._queue.get()) is not None:
                try:
                    await self.deliver(frame)
                except Exception:
                    logger.exception("delivering a %s frame to %s failed", frame.type, self.id)
        finally:
            await self.finish()

    async def deliver(self, frame: ServerFrame) -> None:
        """Hand one frame to the participant."""
        raise NotImplementedError

    async def finish(self) -> None:
        """Called once when the drain task ends."""

    def overflowed(self, frame: ServerFrame) -> None:
        """The send queue is full: by default the frame is dropped (and logged)."""
        logger.warning("participant %s is not keeping up: dropped a %s frame", self.id, frame.type)

    async def disconnect(self, code: int, reason: str) -> None:
        """Cut this participant's connection as a network failure would."""
        raise NotImplementedError


class LocalParticipant(Member):
    """A participant in the same process (the simulated replica, the app's server-side side).

    Callbacks may be plain functions or coroutines; they run one at a time, in the order the
    frames arrived, on this participant's own task; an exception in one is logged, not raised.
    """

    def __init__(
        self,
        room: Room,
        info: ParticipantInfo,
        *,
        on_app_message: _Callback | None,
        on_participant_joined: _Callback | None,
        on_participant_left: _Callback | None,
        on_room_closed: _Callback | None,
    ) -> None:
        super().__init__(info)
        self.room = room
        self._on_app_message = on_app_message
        self._on_participant_joined = on_participant_joined
        self._on_participant_left = on_participant_left
        self._on_room_closed = on_room_closed
        self.left = False

    async def send(self, message: dict[str, Any], to: str = "*") -> int:
        """Send an app-message to everyone (`"*"`) or to one participant id.

        Args:
            message: A JSON-ready dict (e.g. an event's `to_message()`), at most 4 KB as JSON.
            to: `"*"` or the id of the one participant to receive it.

        Returns:
            How many participants it was delivered to.

        Raises:
            MessageTooLargeError: the message is over 4 KB.
            UnknownParticipantError: `to` names no participant in the room.
            RoomClosedError: the room is closed or this participant left.
        """
        return self.send_nowait(message, to)

    def send_nowait(self, message: dict[str, Any], to: str = "*") -> int:
        """Send an app-message without yielding to the event loop (same rules as `send`)."""
        if self.left:
            raise RoomClosedError("this participant has left the room")
        return self.room.route(self.id, message, to)

    async def leave(self) -> None:
        """Leave the room (idempotent)."""
        if self.left:
            return
        self.left = True
        self.room.remove(self)
        self.stop()
        await self.wait_stopped()

    async def disconnect(self, code: int, reason: str) -> None:
        """An in-process participant has no connection to cut: it leaves."""
        await self.leave()

    async def deliver(self, frame: ServerFrame) -> None:
        """Dispatch a frame to the matching callback."""
        if isinstance(frame, ReceivedAppMessageFrame):
            await _call(self._on_app_message, frame.data, frame.from_id)
        elif isinstance(frame, ParticipantFrame):
            if frame.type == "participant-joined":
                await _call(self._on_participant_joined, frame.participant)
            else:
                await _call(self._on_participant_left, frame.participant)
        elif isinstance(frame, RoomClosedFrame):
            self.left = True
            await _call(self._on_room_closed, frame.reason)


async def _call(callback: _Callback | None, *args: Any) -> None:
    if callback is None:
        return
    result = callback(*args)
    if inspect.isawaitable(result):
        await result


class Room:
    """One conversation's room: its participants and the routing of app-messages between them."""

    def __init__(self, conversation_id: str, *, meeting_token: str | None = None) -> None:
        self.conversation_id = conversation_id
        self.meeting_token = meeting_token
        self.closed = False
        self.close_reason: str | None = None
        self._members: dict[str, Member] = {}
        self._listeners: list[Callable[[Presence], None]] = []

    @property
    def participants(self) -> list[ParticipantInfo]:
        """Who is in the room now, in joining order."""
        return [member.info for member in self._members.values()]

    def admits(self, token: str | None) -> bool:
        """Whether a WebSocket client with this meeting token (`?t=`) may join."""
        if self.meeting_token is None:
            return True
        return token is not None and hmac.compare_digest(
            token.encode(), self.meeting_token.encode()
        )

    def add_presence_listener(self, listener: Callable[[Presence], None]) -> None:
        """Call `listener` (synchronously) whenever a participant joins or leaves."""
        self._listeners.append(listener)

    async def join(
        self,
        *,
        user_name: str,
        is_replica: bool = False,
        on_app_message: _Callback | None = None,
        on_participant_joined: _Callback | None = None,
        on_participant_left: _Callback | None = None,
        on_room_closed: _Callback | None = None,
    ) -> LocalParticipant:
        """Join the room in-process.

        Args:
            user_name: The name others see.
            is_replica: Join as the replica (its user_id and user_name contain `tavus-replica`).
            on_app_message: `(data: dict, from_id: str)` for each app-message received.
            on_participant_joined: `(participant: ParticipantInfo)` when someone joins.
            on_participant_left: `(participant: ParticipantInfo)` when someone leaves.
            on_room_closed: `(reason: str)` when the conversation ends.

        Returns:
            The participant, with `send(message, to="*")` and `leave()`.

        Raises:
            RoomClosedError: the room is closed.
        """
        participant = LocalParticipant(
            self,
            self.new_participant(user_name=user_name, is_replica=is_replica),
            on_app_message=on_app_message,
            on_participant_joined=on_participant_joined,
            on_participant_left=on_participant_left,
            on_room_closed=on_room_closed,
        )
        self.add(participant)
        return participant

    def new_participant(self, *, user_name: str, is_replica: bool = False) -> ParticipantInfo:
        """Describe a new participant: a fresh uuid, and the replica marker for the replica."""
        participant_id = str(uuid.uuid4())
        if is_replica:
            if REPLICA_MARKER not in user_name:
                user_name = f"{REPLICA_MARKER} {user_name}".strip()
            user_id = f"{REPLICA_MARKER}-{participant_id}"
        else:
            user_id = participant_id
        return ParticipantInfo(
            id=participant_id, user_id=user_id, user_name=user_name, is_replica=is_replica
        )

    def add(self, member: Member) -> None:
        """Seat a participant: it gets `joined`, everyone else `participant-joined`."""
        if self.closed:
            raise RoomClosedError(f"room {self.conversation_id} is closed ({self.close_reason})")
        member.start()
        member.enqueue(
            JoinedFrame(
                conversation_id=self.conversation_id,
                participant=member.info,
                participants=self.participants,
            )
        )
        joined = ParticipantFrame(type="participant-joined", participant=member.info)
        for other in list(self._members.values()):
            other.enqueue(joined)
        self._members[member.id] = member
        logger.info(
            "room %s: %s joined (%s)", self.conversation_id, member.id, member.info.user_name
        )
        self._notify(Presence("joined", member.info))

    def remove(self, member: Member) -> None:
        """Unseat a participant (idempotent): everyone else gets `participant-left`."""
        if self._members.pop(member.id, None) is None:
            return
        left = ParticipantFrame(type="participant-left", participant=member.info)
        for other in list(self._members.values()):
            other.enqueue(left)
        logger.info("room %s: %s left", self.conversation_id, member.id)
        self._notify(Presence("left", member.info))

    def route(self, sender_id: str, data: dict[str, Any], to: str = "*") -> int:
        """Deliver an app-message from `sender_id` to everyone else or to one participant.

        Returns:
            How many participants it was queued for.

        Raises:
            MessageTooLargeError, UnknownParticipantError, RoomClosedError: as the names say.
        """
        if self.closed:
            raise RoomClosedError(f"room {self.conversation_id} is closed ({self.close_reason})")
        try:
            size = message_size(data)
        except (TypeError, ValueError) as exc:
            raise RoomError(f"app-message data is not JSON-serialisable: {exc}") from exc
        if size > MAX_APP_MESSAGE_BYTES:
            raise MessageTooLargeError(
                f"app-message is {size} bytes; the limit is {MAX_APP_MESSAGE_BYTES} bytes"
            )
        frame = ReceivedAppMessageFrame(data=data, from_id=sender_id)
        if to == "*":
            receivers = [m for m in self._members.values() if m.id != sender_id]
        else:
            target = self._members.get(to)
            if target is None:
                raise UnknownParticipantError(f"no participant {to!r} in the room")
            receivers = [] if target.id == sender_id else [target]
        for receiver in receivers:
            receiver.enqueue(frame)
        return len(receivers)

    async def disconnect(
        self, participant_id: str, *, code: int = 1012, reason: str = "connection dropped"
    ) -> bool:
        """Cut one participant's connection, leaving the room open: a dropped network link.

        A WebSocket client gets a close frame with `code` (1012 "service restart" by default)
        and may rejoin, as a new participant. For tests and demos of reconnects.

        Returns:
            False when no such participant is in the room.
        """
        member = self._members.get(participant_id)
        if member is None:
            return False
        logger.info("room %s: cutting %s off (%s)", self.conversation_id, participant_id, reason)
        await member.disconnect(code, reason)
        return True

    def reject(self, member: Member, reason: str) -> None:
        """Tell one participant that what it sent was refused."""
        member.enqueue(ErrorFrame(reason=reason))

    async def close(self, reason: str) -> None:
        """Close the room (idempotent): `room-closed` to everyone, then every connection ends."""
        if self.closed:
            return
        self.closed = True
        self.close_reason = reason
        members = list(self._members.values())
        self._members.clear()
        closing = RoomClosedFrame(reason=reason)
        for member in members:
            member.enqueue(closing)
            member.stop()
        await asyncio.gather(*(member.wait_stopped() for member in members))
        logger.info("room %s closed: %s", self.conversation_id, reason)

    def _notify(self, presence: Presence) -> None:
        for listener in list(self._listeners):
            try:
                listener(presence)
            except Exception:
                logger.exception("presence listener failed in room %s", self.conversation_id)


class RoomHub:
    """All open rooms of this process, by conversation id."""

    def __init__(self) -> None:
        self._rooms: dict[str, Room] = {}

    def open(self, conversation_id: str, *, meeting_token: str | None = None) -> Room:
        """Open the room of a conversation (or return it if it is already open).

        Args:
            conversation_id: The conversation the room belongs to.
            meeting_token: When set, WebSocket clients must pass it as `?t=`.

        Returns:
            The room.
        """
        room = self._rooms.get(conversation_id)
        if room is None or room.closed:
            room = Room(conversation_id, meeting_token=meeting_token)
            self._rooms[conversation_id] = room
        return room

    def get(self, conversation_id: str) -> Room | None:
        """The open room of a conversation, or None."""
        room = self._rooms.get(conversation_id)
        return room if room is not None and not room.closed else None

    async def close(self, conversation_id: str, reason: str) -> None:
        """Close a conversation's room, if it is open."""
        room = self._rooms.pop(conversation_id, None)
        if room is not None:
            await room.close(reason)

    async def close_all(self, reason: str) -> None:
        """Close every room (at shutdown)."""
        rooms = list(self._rooms.values())
        self._rooms.clear()
        await asyncio.gather(*(room.close(reason) for room in rooms))
