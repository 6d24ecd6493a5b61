"""The room WebSocket's frame schema: what a client may send and what the room sends back.

Client to server: `{"type": "app-message", "data": {...}, "to": "*" | participant_id}` and
`{"type": "leave"}`. Server to client: `joined`, `app-message` (with `fromId`),
`participant-joined`, `participant-left`, `error` and `room-closed`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

__all__ = [
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
    "parse_client_frame",
]


class FrameError(ValueError):
    """A client frame that is not JSON or does not match the schema; the message says why."""


class ParticipantInfo(BaseModel):
    """One participant as the room describes it to others."""

    model_config = ConfigDict(frozen=True)

    id: str
    user_id: str
    user_name: str
    is_replica: bool = False


class AppMessageFrame(BaseModel):
    """Client asks the room to deliver `data` to everyone (`"*"`) or to one participant id."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["app-message"]
    data: dict[str, Any]
    to: str = Field(default="*", min_length=1)


class LeaveFrame(BaseModel):
    """Client leaves the room; the server closes the socket."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["leave"]


ClientFrame = Annotated[AppMessageFrame | LeaveFrame, Field(discriminator="type")]
_client_frame: TypeAdapter[AppMessageFrame | LeaveFrame] = TypeAdapter(ClientFrame)


def parse_client_frame(raw: str | bytes) -> AppMessageFrame | LeaveFrame:
    """Parse one frame received from a room client.

    Args:
        raw: The WebSocket text (or bytes) as received.

    Returns:
        The typed frame.

    Raises:
        FrameError: when the text is not JSON, has an unknown `type` or misses a field.
    """
    try:
        return _client_frame.validate_json(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        if first["type"] == "json_invalid":
            raise FrameError("frame is not valid JSON") from exc
        if first["type"] in ("union_tag_invalid", "union_tag_not_found"):
            raise FrameError("unknown frame type (expected 'app-message' or 'leave')") from exc
        raise FrameError(f"bad frame: {where}: {first['msg']}") from exc


class JoinedFrame(BaseModel):
    """Sent once to a participant that joined: its own id and who is already there."""

    type: Literal["joined"] = "joined"
    conversation_id: str
    participant: ParticipantInfo
    participants: list[ParticipantInfo]


class ReceivedAppMessageFrame(BaseModel):
    """An app-message delivered to a participant (never to its sender)."""

    model_config = ConfigDict(populate_by_name=True)

    type: Literal["app-message"] = "app-message"
    data: dict[str, Any]
    from_id: str = Field(serialization_alias="fromId", validation_alias="fromId")


class ParticipantFrame(BaseModel):
    """Someone else joined or left the room."""

    type: Literal["participant-joined", "participant-left"]
    participant: ParticipantInfo


class ErrorFrame(BaseModel):
    """A frame the client sent was refused; the connection stays up."""

    type: Literal["error"] = "error"
    reason: str


class RoomClosedFrame(BaseModel):
    """The conversation ended: the room closes every connection after this frame."""

    type: Literal["room-closed"] = "room-closed"
    reason: str


ServerFrame = (
    JoinedFrame | ReceivedAppMessageFrame | ParticipantFrame | ErrorFrame | RoomClosedFrame
)
