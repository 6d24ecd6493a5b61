"""`LocalTransport`: a participant in a sandbox room, over the room's real WebSocket.

The sandbox room (`cvi_app.sandbox`) speaks the wire format declared in `local_frames`; this
module is its client. Every frame received is untrusted: a frame over MAX_SERVER_FRAME_BYTES
closes the connection before it is read (the transport then rejoins), and one that does not fit
the schema is logged and dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from cvi_app.transport.base import (
    JoinError,
    NotJoinedError,
    OutgoingMessage,
    Participant,
    RoomTransport,
    SendError,
    TransportParams,
    looks_like_replica,
)
from cvi_app.transport.local_frames import (
    MAX_SERVER_FRAME_BYTES,
    ErrorFrame,
    FrameError,
    JoinedFrame,
    LeaveFrame,
    ParticipantFrame,
    ParticipantInfo,
    ReceivedAppMessageFrame,
    RoomClosedFrame,
    ServerFrame,
    app_message_frame_text,
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


class _RoomRefusedError(JoinError):
    """The room answered and said no (closed, unknown, bad token): trying again cannot help."""


class LocalTransport(RoomTransport):
    """A participant in a sandbox room, connected over its WebSocket.

    When the connection drops while the room is still open (the server restarted, the network
    blinked, the room gave up on a slow reader), the transport rejoins by itself: a few
    attempts with growing pauses, reported through `on_reconnecting` and `on_reconnected`.
    The room gives it a new participant id; who joined or left meanwhile is reported as usual.
    A `send()` made meanwhile waits for the rejoin. Only when the room is closed, refuses us,
    or every attempt fails does `on_closed` fire.
    """

    def __init__(
        self,
        params: TransportParams,
        *,
        join_timeout: float = 10.0,
        reconnect_attempts: int = 6,
        reconnect_backoff: float = 0.2,
        max_reconnect_backoff: float = 5.0,
    ) -> None:
        """Prepare to join (nothing connects until `join()`).

        Args:
            params: The room's `conversation_url`, meeting token and our user name.
            join_timeout: Seconds to wait for the room to answer when joining; also the
                longest a `send()` waits for a rejoin.
            reconnect_attempts: Tries to rejoin after a dropped connection (0: never).
            reconnect_backoff: Pause before the first rejoin attempt; it doubles each time.
            max_reconnect_backoff: Longest pause between rejoin attempts.
        """
        super().__init__(params)
        self._join_timeout = join_timeout
        self._reconnect_attempts = reconnect_attempts
        self._reconnect_backoff = reconnect_backoff
        self._max_reconnect_backoff = max_reconnect_backoff
        self._ws: ClientConnection | None = None
        self._runner: asyncio.Task[None] | None = None
        self._leaving: asyncio.Task[None] | None = None
        self._joined = False
        self._reconnecting = False
        self._changed: asyncio.Future[None] | None = None

    @property
    def reconnecting(self) -> bool:
        """Whether the connection dropped and rejoining is under way."""
        return self._reconnecting

    async def join(self) -> Participant:
        """Connect to the room and wait for its `joined` frame.

        Returns:
            This participant.

        Raises:
            JoinError: the room refused us (bad token, no such room, closed) or did not answer.
        """
        if self._ws is not None or self._leaving is not None:
            raise JoinError("this transport has already joined; create a new one to rejoin")
        self._changed = asyncio.get_running_loop().create_future()
        ws, joined = await self._connect()
        self._ws = ws
        self._set_local(_participant(joined.participant))
        for info in joined.participants:
            self._emit_participant_joined(_participant(info))
        self._joined = True
        self._runner = asyncio.get_running_loop().create_task(
            self._run(), name=f"local-transport {joined.participant.id}"
        )
        logger.info("joined sandbox room %s as %s", joined.conversation_id, joined.participant.id)
        assert self._local is not None
        return self._local

    async def _connect(self) -> tuple[ClientConnection, JoinedFrame]:
        """Open the room WebSocket and wait for `joined`; nothing is left open on failure."""
        url = room_socket_url(
            self.params.room_url, user_name=self.params.user_name, token=self.params.meeting_token
        )
        ws: ClientConnection | None = None
        try:
            async with asyncio.timeout(self._join_timeout):
                ws = await connect(url, max_size=MAX_SERVER_FRAME_BYTES, open_timeout=None)
                return ws, await self._await_joined(ws)
        except TimeoutError as exc:
            await _close_quietly(ws)
            raise JoinError(f"room did not answer within {self._join_timeout}s") from exc
        except (OSError, InvalidHandshake, InvalidURI) as exc:
            await _close_quietly(ws)
            raise JoinError(f"could not connect to the room: {exc}") from exc
        except BaseException:
            await _close_quietly(ws)
            raise

    async def _await_joined(self, ws: ClientConnection) -> JoinedFrame:
        while True:
            try:
                raw = await ws.recv()
            except ConnectionClosed as exc:
                text = f"room closed the connection: {_close_text(exc)}"
                close = exc.rcvd
                if close is not None and 4000 <= close.code < 5000:
                    raise _RoomRefusedError(text) from exc
                raise JoinError(text) from exc
            frame = _parse(raw)
            if isinstance(frame, JoinedFrame):
                return frame
            if isinstance(frame, ErrorFrame | RoomClosedFrame):
                raise _RoomRefusedError(f"room refused to let us join: {frame.reason}")

    async def send(self, message: OutgoingMessage, to: str = "*") -> None:
        """Send an app-message to everyone else (`"*"`) or to one participant id.

        An interaction goes out as its ready wire JSON, inside the frame as it is. While the
        transport is rejoining after a dropped connection, the send waits for it (up to the
        join timeout); a send that meets the drop itself is made again once back.

        Raises:
            NotJoinedError: not in the room.
            MessageTooLargeError: over the 4 KB limit.
            SendError: the connection failed and did not come back in time.

        The room checks `to` itself (we may not have heard of a participant who just joined);
        it answers an unknown one with an `error` frame, which is logged.
        """
        text = app_message_frame_text(self._wire_json(message), to)
        ws = await self._usable_connection()
        try:
            await ws.send(text)
            return
        except ConnectionClosed as exc:
            first = exc
        # The reader meets the same drop and rejoins: send once more on the new connection.
        ws = await self._usable_connection(not_this=ws)
        try:
            await ws.send(text)
        except ConnectionClosed as exc:
            raise SendError(f"room connection is closed: {_close_text(exc)}") from first

    async def _usable_connection(
        self, *, not_this: ClientConnection | None = None
    ) -> ClientConnection:
        """The connection to send on, waiting through a rejoin when one is under way."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._join_timeout
        while True:
            ws = self._ws
            if self._leaving is not None or self._closed_reported or self._changed is None:
                raise NotJoinedError("not in the room: join() first (or the room has closed)")
            if self._joined and ws is not None and ws is not not_this:
                return ws
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise SendError(
                    "the connection to the room was lost and is not back yet; try again"
                )
            # Woken on every change of connection state (rejoined, closed, left).
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._changed), remaining)

    def _state_changed(self) -> None:
        changed = self._changed
        if changed is not None and not changed.done():
            changed.set_result(None)
        self._changed = asyncio.get_running_loop().create_future()

    async def leave(self) -> None:
        """Tell the room we leave and close the connection (idempotent, concurrency-safe)."""
        if self._leaving is None:
            self._leaving = asyncio.get_running_loop().create_task(self._leave())
        await asyncio.shield(self._leaving)

    async def _leave(self) -> None:
        self._joined = False
        if self._changed is not None:
            self._state_changed()
        runner = self._runner
        if runner is not None and self._reconnecting:
            runner.cancel()
            await asyncio.gather(runner, return_exceptions=True)
        ws = self._ws
        if ws is not None:
            with contextlib.suppress(ConnectionClosed):
                await ws.send(_LEAVE)
            await ws.close()
        if runner is not None:
            await asyncio.gather(runner, return_exceptions=True)
        logger.info("left sandbox room as %s", self._who())

    async def _run(self) -> None:
        """Read the room until it closes, rejoining after unexpected drops."""
        while True:
            ws = self._ws
            assert ws is not None
            reason, room_closed = await self._read(ws)
            if self._leaving is not None:
                return
            if not room_closed:
                failure = await self._reconnect(reason)
                if failure is None:
                    continue
                reason = failure
            break
        self._joined = False
        self._emit_closed(reason)
        self._state_changed()
        await _close_quietly(self._ws)

    async def _read(self, ws: ClientConnection) -> tuple[str, bool]:
        """Dispatch frames until the connection ends; return why, and whether the room closed."""
        try:
            async for raw in ws:
                frame = _parse(raw)
                if isinstance(frame, RoomClosedFrame):
                    return frame.reason, True
                if frame is not None:
                    self._dispatch(frame)
        except ConnectionClosed as exc:
            return f"connection to the room was lost: {_close_text(exc)}", False
        code, why = ws.close_code, ws.close_reason
        return f"connection to the room was lost: {code} {why or ''}".strip(), False

    async def _reconnect(self, reason: str) -> str | None:
        """Rejoin after a drop; None when back in, else why the room is gone for good."""
        if self._reconnect_attempts < 1:
            return reason
        self._joined = False
        self._reconnecting = True
        self._emit_reconnecting(reason)
        await _close_quietly(self._ws)
        pause = self._reconnect_backoff
        failure = reason
        try:
            for attempt in range(1, self._reconnect_attempts + 1):
                await asyncio.sleep(pause)
                pause = min(pause * 2, self._max_reconnect_backoff)
                try:
                    ws, joined = await self._connect()
                except _RoomRefusedError as exc:
                    return f"{reason}; the room refused to let us back in: {exc}"
                except JoinError as exc:
                    failure = f"{reason}; rejoining failed: {exc}"
                    logger.info(
                        "rejoin attempt %d/%d for %s failed: %s",
                        attempt,
                        self._reconnect_attempts,
                        self._who(),
                        exc,
                    )
                    continue
                self._ws = ws
                self._rejoined(
                    _participant(joined.participant), [_participant(p) for p in joined.participants]
                )
                self._joined = True
                self._reconnecting = False
                self._state_changed()
                self._emit_reconnected()
                return None
            return failure
        finally:
            self._reconnecting = False

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


async def _close_quietly(ws: ClientConnection | None) -> None:
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
