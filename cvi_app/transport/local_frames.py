"""The local room's wire format: the frames of the sandbox room's WebSocket, both directions.

This is the one declaration of it: the room server (`cvi_app.sandbox.rooms`, `room_socket`)
builds and parses these frames, and so does its client (`cvi_app.transport.local`). It lives
here so the transport depends on the wire format only, never on the sandbox package.

Client to server: `app-message` (`{"type": "app-message", "data": {...}, "to": "*" | id}`) and
`leave`. Server to client: `joined`, `participant-joined`, `participant-left`, `app-message`
(with `fromId`), `error` and `room-closed`.

Each side treats what it receives as untrusted: `parse_client_frame` (the server's) and
`parse_server_frame` (the client's) refuse frames over a size bound unread, then check them
against the schema.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

__all__ = [
    "MAX_CLIENT_FRAME_BYTES",
    "MAX_SERVER_FRAME_BYTES",
    "AppMessageFrame",
    "ClientFrame",
    "ErrorFrame",
    "FrameError",
    "JoinedFrame",
    "LeaveFrame",
    "ParticipantFrame",
    "ParticipantInfo",
    "ReceivedAppMessageFrame",
    "RoomClosedFrame",
    "ServerFrame",
    "app_message_frame_text",
    "parse_client_frame",
    "parse_server_frame",
]

MAX_CLIENT_FRAME_BYTES = 64 * 1024
"""Largest frame the room reads from a client: a 4 KB app-message even with every character
escaped (`\\uXXXX`, six bytes for one) and room to spare."""

MAX_SERVER_FRAME_BYTES = 1024 * 1024
"""Largest frame a client reads from the room: a `joined` frame lists everyone in the room."""


class FrameError(ValueError):
    """A frame that is too large, not JSON, or does not fit the schema; the message says why."""


class ParticipantInfo(BaseModel):
    """One participant as the room describes it to others."""

    model_config = ConfigDict(frozen=True)

    id: str = Field(min_length=1)
    user_id: str
    user_name: str
    is_replica: bool = False


# ---- client to server ------------------------------------------------------------------------


class AppMessageFrame(BaseModel):
    """Ask the room to deliver `data` to everyone else (`"*"`) or to one participant id."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["app-message"] = "app-message"
    data: dict[str, Any]
    to: str = Field(default="*", min_length=1)


class LeaveFrame(BaseModel):
    """The client leaves the room; the server closes the socket."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["leave"] = "leave"


ClientFrame = AppMessageFrame | LeaveFrame


def app_message_frame_text(data_json: str, to: str = "*") -> str:
    """The `app-message` client frame for data that is already compact JSON text.

    It reads as `AppMessageFrame(data=..., to=to)` does, without encoding the data again.

    Args:
        data_json: The app-message as JSON text of an object (e.g. `Interaction.to_json()`).
        to: `"*"` or the id of the one participant to receive it.

    Returns:
        The frame's JSON text.
    """
    return f'{{"type":"app-message","data":{data_json},"to":{json.dumps(to)}}}'


# ---- server to client ------------------------------------------------------------------------


class JoinedFrame(BaseModel):
    """Sent once to a participant that joined: its own id and who is already there."""

    type: Literal["joined"] = "joined"
    conversation_id: str
    participant: ParticipantInfo
    participants: list[ParticipantInfo]


class ParticipantFrame(BaseModel):
    """Someone else joined or left the room."""

    type: Literal["participant-joined", "participant-left"]
    participant: ParticipantInfo


class ReceivedAppMessageFrame(BaseModel):
    """An app-message delivered to a participant (never to its sender)."""

    model_config = ConfigDict(
        validate_by_name=True, validate_by_alias=True, serialize_by_alias=True
    )

    type: Literal["app-message"] = "app-message"
    data: dict[str, Any]
    from_id: str = Field(alias="fromId", min_length=1)


class ErrorFrame(BaseModel):
    """A frame the client sent was refused (or it may not join); the connection stays up."""

    type: Literal["error"] = "error"
    reason: str


class RoomClosedFrame(BaseModel):
    """The conversation ended: the room closes every connection after this frame."""

    type: Literal["room-closed"] = "room-closed"
    reason: str


ServerFrame = (
    JoinedFrame | ParticipantFrame | ReceivedAppMessageFrame | ErrorFrame | RoomClosedFrame
)

# ---- parsing ---------------------------------------------------------------------------------

_F = TypeVar("_F")

_client_frame: TypeAdapter[ClientFrame] = TypeAdapter(
    Annotated[ClientFrame, Field(discriminator="type")]
)
_server_frame: TypeAdapter[ServerFrame] = TypeAdapter(
    Annotated[ServerFrame, Field(discriminator="type")]
)


def parse_client_frame(raw: str | bytes) -> ClientFrame:
    """Parse one frame the room received from a client.

    Args:
        raw: The WebSocket text (or bytes) as received.

    Returns:
        The typed frame.

    Raises:
        FrameError: it is over MAX_CLIENT_FRAME_BYTES, not JSON, has an unknown `type`, or
            misses or mistypes a field (or has one the schema does not know).
    """
    return _parse(_client_frame, raw, MAX_CLIENT_FRAME_BYTES, "'app-message' or 'leave'")


def parse_server_frame(raw: str | bytes) -> ServerFrame:
    """Parse one frame a client received from the room, as `parse_client_frame` does.

    The bound is MAX_SERVER_FRAME_BYTES, and fields the schema does not know are ignored (a
    newer room may send more).

    Raises:
        FrameError: as `parse_client_frame` says.
    """
    return _parse(
        _server_frame,
        raw,
        MAX_SERVER_FRAME_BYTES,
        "'joined', 'participant-joined', 'participant-left', 'app-message', 'error' "
        "or 'room-closed'",
    )


def _parse(adapter: TypeAdapter[_F], raw: str | bytes, limit: int, types: str) -> _F:
    # Measured before anything is decoded: bytes for bytes, characters for text (a character
    # is at least one byte, so text is bounded by at most four times `limit` bytes).
    if len(raw) > limit:
        unit = "characters" if isinstance(raw, str) else "bytes"
        raise FrameError(f"frame is {len(raw)} {unit} long; the limit is {limit}")
    try:
        return adapter.validate_json(raw)
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        if first["type"] == "json_invalid":
            raise FrameError("frame is not valid JSON") from exc
        if first["type"] in ("union_tag_invalid", "union_tag_not_found"):
            raise FrameError(f"unknown frame type (expected {types})") from exc
        where = ".".join(str(part) for part in first["loc"]) or "frame"
        raise FrameError(f"bad frame: {where}: {first['msg']}") from exc
