"""Live updates as JSON bytes, for a bus between processes (Redis streams in the cluster shape).

Every `LiveUpdate` type has one wire form: a JSON object whose `kind` names the type. Events and
interactions travel as their own wire JSON (`Event.to_json()`, `Interaction.to_json()`) and come
back through the protocol's checks (`parse_event`, `validate_interaction`), so a decoded update is
exactly as trustworthy as one the session made. The other updates are plain data and travel as
their own fields.

Decoding is for bytes another process wrote: the size is checked before anything is parsed, and
anything that is not a valid update raises `UpdateDecodeError` (and nothing else), which a reader
logs and skips.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from cvi_app.live.updates import (
    EventReceived,
    InteractionSent,
    LiveUpdate,
    Notice,
    OperatorNote,
    PresenceChanged,
    SpeakingChanged,
    StatusChanged,
    ToolCallUpdate,
)
from cvi_app.protocol import ProtocolError, parse_event, validate_interaction

__all__ = [
    "MAX_UPDATE_BYTES",
    "UpdateDecodeError",
    "UpdateEncodeError",
    "decode_update",
    "encode_update",
]

MAX_UPDATE_BYTES = 1024 * 1024
"""The most one encoded update may take; larger ones are refused both ways."""


class UpdateDecodeError(ValueError):
    """Bytes that are not an encoded live update (too large, not JSON, a field wrong)."""


class UpdateEncodeError(ValueError):
    """An update that cannot be sent: its encoding is over `MAX_UPDATE_BYTES`."""


class _Wire(BaseModel):
    model_config = ConfigDict(frozen=True)

    at: datetime
    update_id: int = Field(ge=0)


class _EventWire(_Wire):
    kind: Literal["event"]
    event: str = Field(description="The event's wire JSON.")
    raw: bool = Field(description="Whether the update carried `event` as its `raw` text.")


class _SentWire(_Wire):
    kind: Literal["sent"]
    interaction: str = Field(description="The interaction's wire JSON.")


# The plain updates are their own wire form; their `kind` tells them apart.
_Wires = Annotated[
    _EventWire
    | _SentWire
    | ToolCallUpdate
    | StatusChanged
    | Notice
    | SpeakingChanged
    | PresenceChanged
    | OperatorNote,
    Field(discriminator="kind"),
]
_WIRE: TypeAdapter[
    _EventWire
    | _SentWire
    | ToolCallUpdate
    | StatusChanged
    | Notice
    | SpeakingChanged
    | PresenceChanged
    | OperatorNote
] = TypeAdapter(_Wires)


def encode_update(update: LiveUpdate) -> bytes:
    """The update as compact JSON bytes (UTF-8).

    Raises:
        UpdateEncodeError: The encoding is over `MAX_UPDATE_BYTES`.
    """
    wire: BaseModel
    match update:
        case EventReceived():
            wire = _EventWire(
                kind="event",
                at=update.at,
                update_id=update.update_id,
                event=update.raw or update.event.to_json(),
                raw=bool(update.raw),
            )
        case InteractionSent():
            wire = _SentWire(
                kind="sent",
                at=update.at,
                update_id=update.update_id,
                interaction=update.interaction.to_json(),
            )
        case _:
            wire = update
    data = wire.model_dump_json().encode()
    if len(data) > MAX_UPDATE_BYTES:
        raise UpdateEncodeError(
            f"{update.kind} update {update.update_id} is {len(data)} bytes as JSON, "
            f"over the {MAX_UPDATE_BYTES}-byte limit"
        )
    return data


def decode_update(data: bytes | str) -> LiveUpdate:
    """The update that `encode_update` made these bytes from.

    Args:
        data: Untrusted bytes (or text), e.g. read from a Redis stream.

    Raises:
        UpdateDecodeError: Over `MAX_UPDATE_BYTES`, not JSON, an unknown `kind`, a field of the
            wrong type, or an event or interaction the protocol refuses. Nothing else is raised.
    """
    if len(data) > MAX_UPDATE_BYTES:
        raise UpdateDecodeError(f"{len(data)} bytes, over the {MAX_UPDATE_BYTES}-byte limit")
    try:
        wire = _WIRE.validate_json(data, strict=True)
    except ValidationError as exc:
        raise UpdateDecodeError(_summary(exc)) from exc
    except RecursionError as exc:  # pragma: no cover - pydantic's parser bounds nesting itself
        raise UpdateDecodeError("JSON nests too deeply") from exc
    try:
        match wire:
            case _EventWire():
                return EventReceived(
                    at=wire.at,
                    update_id=wire.update_id,
                    event=parse_event(wire.event),
                    raw=wire.event if wire.raw else "",
                )
            case _SentWire():
                return InteractionSent(
                    at=wire.at,
                    update_id=wire.update_id,
                    interaction=validate_interaction(_json_object(wire.interaction)),
                )
            case _:
                # The plain updates are their own wire models, with defaults for these two.
                if "at" not in wire.model_fields_set:
                    raise UpdateDecodeError(f"{wire.kind}.at: Field required")
                if wire.update_id < 0:
                    raise UpdateDecodeError(f"{wire.kind}.update_id: below 0")
                return wire
    except ProtocolError as exc:
        raise UpdateDecodeError(f"{wire.kind}: {exc}") from exc


def _json_object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ProtocolError(None, f"not JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise ProtocolError(None, f"expected a JSON object, got {type(value).__name__}")
    return value


def _summary(exc: ValidationError) -> str:
    errors = exc.errors(include_url=False, include_input=False)
    if not errors:  # pragma: no cover - pydantic always reports at least one
        return "not a live update"
    first = errors[0]
    where = ".".join(str(part) for part in first["loc"]) or "update"
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{where}: {first['msg']}{more}"
