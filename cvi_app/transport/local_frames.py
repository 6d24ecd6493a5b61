"""The sandbox room's WebSocket frames, as its clients see them.

The room server (`cvi_app.sandbox.frames`) defines the schema; this is the client's side of it,
kept here so the transport depends on the wire format only, not on the sandbox package.
Server frames are untrusted input: `parse_server_frame` checks them against the schema.

Server to client: `joined`, `participant-joined`, `participant-left`, `app-message` (with
`fromId`), `error` and `room-closed`. Client to server: `app-message` (with `to`) and `leave`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, TypeAdapter, ValidationError

__all__ = [
    "AppMessageFrame",
    "ErrorFrame",
    "FrameError",
    "JoinedFrame",
    "LeaveFrame",
    "ParticipantFrame",
    "ParticipantInfo",
    "ReceivedAppMessageFrame",
    "RoomClosedFrame",
    "ServerFrame",
    "parse_server_frame",
]


class FrameError(ValueError):
    """A frame from the room that is not JSON or does not fit the schema; says why."""


class ParticipantInfo(BaseModel):
    """A participant as the room describes it."""

    id: str = Field(min_length=1)
    user_id: str = ""
    user_name: str = ""
    is_replica: bool = False


class JoinedFrame(BaseModel):
    """We are in: our own participant and who was already there."""

    type: Literal["joined"]
    conversation_id: str = ""
    participant: ParticipantInfo
    participants: list[ParticipantInfo] = Field(default_factory=list)


class ParticipantFrame(BaseModel):
    """Someone else joined or left."""

    type: Literal["participant-joined", "participant-left"]
    participant: ParticipantInfo


class ReceivedAppMessageFrame(BaseModel):
    """An app-message from another participant."""

    type: Literal["app-message"]
    data: dict[str, Any]
    from_id: str = Field(alias="fromId", min_length=1)


class ErrorFrame(BaseModel):
    """The room refused a frame we sent (or refused to let us join)."""

    type: Literal["error"]
    reason: str = ""


class RoomClosedFrame(BaseModel):
    """The conversation ended; the room closes the connection next."""

    type: Literal["room-closed"]
    reason: str = ""


ServerFrame = (
    JoinedFrame | ParticipantFrame | ReceivedAppMessageFrame | ErrorFrame | RoomClosedFrame
)
_server_frame: TypeAdapter[ServerFrame] = TypeAdapter(
    Annotated[ServerFrame, Field(discriminator="type")]
)


def parse_server_frame(raw: str | bytes) -> ServerFrame:
    """Parse one frame received from the room.

    Args:
        raw: The WebSocket message as received.

    Returns:
        The typed frame.

    Raises:
        FrameError: it is not JSON, has an unknown `type`, or misses or mistypes a field.
    """
    try:
        return _server_frame.validate_json(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "frame"
        raise FrameError(f"{where}: {first['msg']}") from exc


class AppMessageFrame(BaseModel):
    """Ask the room to deliver `data` to everyone else (`"*"`) or to one participant id."""

    type: Literal["app-message"] = "app-message"
    data: dict[str, Any]
    to: str = Field(default="*", min_length=1)


class LeaveFrame(BaseModel):
    """We leave; the room closes the connection."""

    type: Literal["leave"] = "leave"
