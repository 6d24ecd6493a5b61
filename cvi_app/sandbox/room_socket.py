"""The room WebSocket: `rooms/{conversation_id}/ws?user_name=...&t=...`.

A client that joins gets a `joined` frame, then everything the room sends it. Each frame it sends
is checked against the frame schema; a bad one gets an `error` frame and the connection stays up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from cvi_app.sandbox.rooms import Member, Room, RoomError, RoomHub
from cvi_app.transport.base import REPLICA_MARKER
from cvi_app.transport.local_frames import (
    ErrorFrame,
    FrameError,
    LeaveFrame,
    ParticipantInfo,
    ServerFrame,
    parse_client_frame,
)

__all__ = ["SocketMember", "serve_room_socket"]

logger = logging.getLogger(__name__)

MAX_USER_NAME = 100

# Close codes in the 4000 range are for applications; these mirror the HTTP statuses.
CLOSE_UNAUTHORIZED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_NOT_FOUND = 4404
CLOSE_TOO_SLOW = 4408
CLOSE_WAIT_SECONDS = 2.0

# Closes still waiting on a client that stopped reading (kept so they are not collected).
_closing: set[asyncio.Task[None]] = set()


class SocketMember(Member):
    """A participant connected over the room WebSocket."""

    def __init__(self, room: Room, websocket: WebSocket, info: ParticipantInfo) -> None:
        super().__init__(info)
        self.room = room
        self.websocket = websocket
        self._close_code = 1000
        self._close_reason = ""
        self._gone = False

    async def deliver(self, frame: ServerFrame) -> None:
        """Send one frame as JSON text (frames for a client that went away are dropped)."""
        if self._gone:
            return
        if frame.type == "room-closed":
            self._close_reason = "room closed"
        try:
            await self.websocket.send_text(frame.model_dump_json())
        except (WebSocketDisconnect, OSError, RuntimeError) as exc:
            logger.debug("participant %s went away: %s", self.id, exc)
            self._gone = True

    async def finish(self) -> None:
        """Close the socket once the queue is drained (or the room gave up on the client).

        A client that stopped reading cannot take the close frame either, so the close is left
        to finish in the background (or to die with the connection) after a short wait.
        """
        if self._gone or self.websocket.application_state != WebSocketState.CONNECTED:
            return
        closing = asyncio.get_running_loop().create_task(self._close())
        _closing.add(closing)
        closing.add_done_callback(_closing.discard)
        await asyncio.wait({closing}, timeout=CLOSE_WAIT_SECONDS)

    async def _close(self) -> None:
        with contextlib.suppress(Exception):
            await self.websocket.close(self._close_code, self._close_reason)

    async def disconnect(self, code: int, reason: str) -> None:
        """Close the socket now with `code`; the room unseats the client when it goes."""
        self._gone = True
        with contextlib.suppress(Exception):
            await self.websocket.close(code, reason)

    def overflowed(self, frame: ServerFrame) -> None:
        """A client that cannot keep up leaves the room at once and is disconnected."""
        logger.warning("participant %s is not keeping up: disconnecting it", self.id)
        self._close_code = CLOSE_TOO_SLOW
        self._close_reason = "too slow: send queue full"
        self._stopping = True
        asyncio.get_running_loop().call_soon(self.room.remove, self)
        if self._task is not None:
            self._task.cancel()


async def _refuse(websocket: WebSocket, code: int, reason: str) -> None:
    await websocket.send_text(ErrorFrame(reason=reason).model_dump_json())
    await websocket.close(code, reason)


async def serve_room_socket(websocket: WebSocket, hub: RoomHub) -> None:
    """Serve one participant's WebSocket until it leaves or the room closes.

    Args:
        websocket: The incoming connection (path parameter `conversation_id`; query `t`,
            `user_name`).
        hub: The rooms of this process.
    """
    await websocket.accept()
    conversation_id = websocket.path_params["conversation_id"]
    room = hub.get(conversation_id)
    if room is None:
        await _refuse(websocket, CLOSE_NOT_FOUND, "no such room, or its conversation has ended")
        return
    if not room.admits(websocket.query_params.get("t")):
        await _refuse(websocket, CLOSE_UNAUTHORIZED, "a valid meeting token (?t=) is required")
        return
    user_name = (websocket.query_params.get("user_name") or "guest").strip()[:MAX_USER_NAME]
    if REPLICA_MARKER in user_name.lower():
        await _refuse(
            websocket, CLOSE_FORBIDDEN, f"user names containing {REPLICA_MARKER!r} are reserved"
        )
        return
    member = SocketMember(room, websocket, room.new_participant(user_name=user_name or "guest"))
    try:
        room.add(member)
    except RoomError as exc:
        await _refuse(websocket, CLOSE_NOT_FOUND, str(exc))
        return
    try:
        await _receive_frames(websocket, member, room)
    finally:
        room.remove(member)
        member.stop()
        await member.wait_stopped()


async def _receive_frames(websocket: WebSocket, member: SocketMember, room: Room) -> None:
    while True:
        try:
            message = await websocket.receive()
        except (WebSocketDisconnect, RuntimeError):
            return
        if message["type"] == "websocket.disconnect":
            return
        raw = message.get("text")
        if raw is None:
            raw = message.get("bytes") or b""
        try:
            frame = parse_client_frame(raw)
        except FrameError as exc:
            room.reject(member, str(exc))
            continue
        if isinstance(frame, LeaveFrame):
            return
        try:
            room.route(member.id, frame.data, frame.to)
        except RoomError as exc:
            room.reject(member, str(exc))
            if room.closed:
                return
