"""`LocalTransport`: a participant in a sandbox room, over the room's real WebSocket.

The sandbox room (`cvi_app.sandbox`) speaks the frame schema in `local_frames`; this module is
its client. Every frame received is untrusted: it is parsed against that schema, and one that
does not fit is logged and dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from cvi_app.transport.base import (
    JoinError,
    NotJoinedError,
    Participant,
    RoomTransport,
    SendError,
    TransportParams,
    looks_like_replica,
)
from cvi_app.transport.local_frames import (
    AppMessageFrame,
    ErrorFrame,
    FrameError,
    JoinedFrame,
    LeaveFrame,
    ParticipantFrame,
    ParticipantInfo,
    ReceivedAppMessageFrame,
    RoomClosedFrame,
    ServerFrame,
    parse_server_frame,
)

__all__ = ["LocalTransport", "room_socket_url"]

logger = logging.getLogger(__name__)

_LEAVE = LeaveFrame().model_dump_json()


def room_socket_url(room_url: str, *, user_name: str, token: str | None = None) -> str:
    """The room WebSocket address for a sandbox `conversation_url`.

    Args:
        room_url: The conversation's `conversation_url` (http or https; a `?t=` it carries is kept).
        user_name: The name others in the room see.
        token: The meeting token, for rooms that require one.

    Returns:
        `{room_url}/ws?user_name=...&t=...` with the scheme turned into ws or wss.

    Raises:
        JoinError: `room_url` is not an http(s) or ws(s) URL.
    """
    parts = urlsplit(room_url)
    schemes = {"http": "ws", "https": "wss", "ws": "ws", "wss": "wss"}
    if parts.scheme not in schemes or not parts.netloc:
        raise JoinError(f"not a room URL: {room_url!r} (expected http(s)://host/...)")
    query = dict(parse_qsl(parts.query))
    query["user_name"] = user_name
    if token is not None:
        query["t"] = token
    path = parts.path.rstrip("/") + "/ws"
    return urlunsplit((schemes[parts.scheme], parts.netloc, path, urlencode(query), ""))


def _participant(info: ParticipantInfo) -> Participant:
    return Participant(
        id=info.id,
        user_name=info.user_name,
        user_id=info.user_id,
        is_replica=info.is_replica or looks_like_replica(user_id=info.user_id, user_name=None),
    )


class LocalTransport(RoomTransport):
    """A participant in a sandbox room, connected over its WebSocket."""

    def __init__(self, params: TransportParams, *, join_timeout: float = 10.0) -> None:
        """Prepare to join (nothing connects until `join()`).

        Args:
            params: The room's `conversation_url`, meeting token and our user name.
            join_timeout: Seconds to wait for the room to answer when joining.
        """
        super().__init__(params)
        self._join_timeout = join_timeout
        self._ws: ClientConnection | None = None
        self._reader: asyncio.Task[None] | None = None
        self._leaving: asyncio.Task[None] | None = None
        self._joined = False

    async def join(self) -> Participant:
        """Connect to the room and wait for its `joined` frame.

        Returns:
            This participant.

        Raises:
            JoinError: the room refused us (bad token, no such room, closed) or did not answer.
        """
        if self._ws is not None or self._leaving is not None:
            raise JoinError("this transport has already joined; create a new one to rejoin")
        url = room_socket_url(
            self.params.room_url, user_name=self.params.user_name, token=self.params.meeting_token
        )
        try:
            async with asyncio.timeout(self._join_timeout):
                self._ws = await connect(url, max_size=None, open_timeout=None)
                joined = await self._await_joined(self._ws)
        except TimeoutError as exc:
            await self._drop_connection()
            raise JoinError(f"room did not answer within {self._join_timeout}s") from exc
        except (OSError, InvalidHandshake, InvalidURI) as exc:
            await self._drop_connection()
            raise JoinError(f"could not connect to the room: {exc}") from exc
        except JoinError:
            await self._drop_connection()
            raise
        self._set_local(_participant(joined.participant))
        for info in joined.participants:
            self._emit_participant_joined(_participant(info))
        self._joined = True
        self._reader = asyncio.get_running_loop().create_task(
            self._read(self._ws), name=f"local-transport-reader {joined.participant.id}"
        )
        logger.info("joined sandbox room %s as %s", joined.conversation_id, joined.participant.id)
        assert self._local is not None
        return self._local

    async def _await_joined(self, ws: ClientConnection) -> JoinedFrame:
        while True:
            try:
                raw = await ws.recv()
            except ConnectionClosed as exc:
                raise JoinError(f"room closed the connection: {_close_text(exc)}") from exc
            frame = _parse(raw)
            if isinstance(frame, JoinedFrame):
                return frame
            if isinstance(frame, ErrorFrame | RoomClosedFrame):
                raise JoinError(f"room refused to let us join: {frame.reason}")

    async def send(self, message: dict[str, Any], to: str = "*") -> None:
        """Send an app-message to everyone else (`"*"`) or to one participant id.

        Raises:
            NotJoinedError: not in the room.
            MessageTooLargeError: over the 4 KB limit.
            SendError: the connection failed.

        The room checks `to` itself (we may not have heard of a participant who just joined);
        it answers an unknown one with an `error` frame, which is logged.
        """
        ws = self._ws
        if ws is None or not self._joined:
            raise NotJoinedError("not in the room: join() first (or the room has closed)")
        self._check_size(message)
        frame = AppMessageFrame(data=message, to=to)
        try:
            await ws.send(frame.model_dump_json())
        except ConnectionClosed as exc:
            raise SendError(f"room connection is closed: {_close_text(exc)}") from exc

    async def leave(self) -> None:
        """Tell the room we leave and close the connection (idempotent, concurrency-safe)."""
        if self._leaving is None:
            self._leaving = asyncio.get_running_loop().create_task(self._leave())
        await asyncio.shield(self._leaving)

    async def _leave(self) -> None:
        self._joined = False
        ws = self._ws
        if ws is not None:
            with contextlib.suppress(ConnectionClosed):
                await ws.send(_LEAVE)
            await ws.close()
        if self._reader is not None:
            await asyncio.gather(self._reader, return_exceptions=True)
        logger.info("left sandbox room as %s", self._who())

    async def _read(self, ws: ClientConnection) -> None:
        reason = "connection to the room was lost"
        try:
            async for raw in ws:
                frame = _parse(raw)
                if isinstance(frame, RoomClosedFrame):
                    reason = frame.reason
                    break
                if frame is not None:
                    self._dispatch(frame)
        except ConnectionClosed as exc:
            reason = f"connection to the room was lost: {_close_text(exc)}"
        finally:
            self._joined = False
            if self._leaving is None:
                self._emit_closed(reason)
                with contextlib.suppress(Exception):
                    await ws.close()

    def _dispatch(self, frame: ServerFrame) -> None:
        if isinstance(frame, ReceivedAppMessageFrame):
            self._emit_app_message(frame.data, frame.from_id)
        elif isinstance(frame, ParticipantFrame):
            if frame.type == "participant-joined":
                self._emit_participant_joined(_participant(frame.participant))
            else:
                self._emit_participant_left(_participant(frame.participant))
        elif isinstance(frame, ErrorFrame):
            logger.warning("sandbox room refused a frame from %s: %s", self._who(), frame.reason)
        elif isinstance(frame, JoinedFrame):
            logger.warning("ignoring a second joined frame for %s", self._who())

    async def _drop_connection(self) -> None:
        ws, self._ws = self._ws, None
        if ws is not None:
            with contextlib.suppress(Exception):
                await ws.close()


def _parse(raw: str | bytes) -> ServerFrame | None:
    try:
        return parse_server_frame(raw)
    except FrameError as exc:
        logger.warning("dropped a bad frame from the sandbox room: %s", exc)
        return None


def _close_text(exc: ConnectionClosed) -> str:
    close = exc.rcvd or exc.sent
    if close is None:
        return "no close frame"
    return f"{close.code} {close.reason}".strip()
