"""Typed models and builders of the interactions the app sends (PROTOCOL.md, "Interactions").

Every interaction is validated when it is built: documented event types only, non-blank text
and context, one sensitivity key per message, and the whole message within Daily's 4 KB limit.
Its wire JSON is made then, once, and kept for everything that sends, stores or shows it.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Annotated, Any, Literal, Self, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from .base import Envelope
from .common import MAX_APP_MESSAGE_BYTES, SensitivityLevel, encode_message
from .errors import MessageTooLarge, ProtocolError

__all__ = [
    "AppendContextInteraction",
    "AppendContextProperties",
    "EchoInteraction",
    "EchoProperties",
    "INTERACTION_TYPES",
    "Interaction",
    "InteractionProperties",
    "InterruptInteraction",
    "NoProperties",
    "OverwriteContextInteraction",
    "OverwriteContextProperties",
    "RespondInteraction",
    "RespondProperties",
    "SensitivityInteraction",
    "SensitivityProperties",
    "ToolResultInteraction",
    "ToolResultProperties",
    "UNDOCUMENTED_ALIASES",
    "append_context",
    "echo_text",
    "interrupt",
    "overwrite_context",
    "respond",
    "sensitivity",
    "tool_result",
]


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must hold more than white space")
    return value


NonBlankStr = Annotated[str, AfterValidator(_not_blank)]


class InteractionProperties(BaseModel):
    """Base of every interaction's properties: only documented keys, each type-checked."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class NoProperties(InteractionProperties):
    """Properties of interactions that take none."""


class RespondProperties(InteractionProperties):
    """``text`` is handled as a finished user turn and goes through the LLM."""

    text: NonBlankStr


class EchoProperties(InteractionProperties):
    """What the replica should say verbatim, as text or as base64 16-bit mono PCM audio.

    ``done`` defaults to true for text and false for audio, as Tavus does; it also accepts the
    strings ``"true"``/``"false"`` (from user input) but is always sent as a JSON boolean.
    """

    modality: Literal["text", "audio"] = "text"
    text: NonBlankStr | None = None
    audio: str | None = None
    sample_rate: int | None = Field(default=None, gt=0, le=192_000)
    inference_id: Annotated[str, Field(min_length=1)] | None = None
    done: bool = True

    @model_validator(mode="before")
    @classmethod
    def _default_done(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("done") is None:
            data = {**data, "done": data.get("modality", "text") != "audio"}
        return data

    @field_validator("done", mode="before")
    @classmethod
    def _done_from_text(cls, value: object) -> object:
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        return value

    @field_validator("audio")
    @classmethod
    def _valid_base64(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                base64.b64decode(value, validate=True)
            except (binascii.Error, ValueError):
                raise ValueError("must be valid base64") from None
        return value

    @model_validator(mode="after")
    def _matches_modality(self) -> EchoProperties:
        if self.modality == "text":
            if self.text is None:
                raise ValueError("a text echo needs text")
            if self.audio is not None:
                raise ValueError("a text echo cannot carry audio (use modality 'audio')")
        else:
            if self.audio is None:
                raise ValueError("an audio echo needs audio")
            if self.text is not None:
                raise ValueError("an audio echo cannot carry text")
            if not self.audio and not self.done:
                raise ValueError("empty audio is only allowed on the last chunk (done true)")
        return self


class OverwriteContextProperties(InteractionProperties):
    """``context`` replaces the conversational context."""

    context: NonBlankStr


class AppendContextProperties(InteractionProperties):
    """``context`` is added to the conversational context."""

    context: NonBlankStr
    job_status: Literal["completed"] | None = None


class SensitivityProperties(InteractionProperties):
    """Exactly one of the two sensitivity keys (send two messages to change both)."""

    participant_pause_sensitivity: SensitivityLevel | None = None
    participant_interrupt_sensitivity: SensitivityLevel | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> SensitivityProperties:
        given = (self.participant_pause_sensitivity, self.participant_interrupt_sensitivity)
        if sum(value is not None for value in given) != 1:
            raise ValueError(
                "exactly one of participant_pause_sensitivity and "
                "participant_interrupt_sensitivity per message (send two messages to set both)"
            )
        return self


class ToolResultProperties(InteractionProperties):
    """The result of a tool call; an object or list given as ``output`` is sent JSON-encoded."""

    tool_call_id: NonBlankStr
    output: str
    status: Literal["success", "error"] = "success"

    @field_validator("output", mode="before")
    @classmethod
    def _encode_structured(cls, value: object) -> object:
        if isinstance(value, dict | list):
            try:
                return json.dumps(value, ensure_ascii=False, allow_nan=False)
            except (TypeError, ValueError, RecursionError):
                raise ValueError("an object or list output must hold only JSON values") from None
        return value


class Interaction(Envelope):
    """Envelope shared by every interaction; ``conversation_id`` is required.

    The wire form (compact JSON, see ``encode_message``) is made and size-checked once, when
    the interaction is validated, and kept: ``to_json()``, ``to_message()`` and ``wire_size``
    read it without encoding or measuring the message again.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    message_type: Literal["conversation"] = "conversation"
    event_type: str
    conversation_id: NonBlankStr
    properties: InteractionProperties = Field(default_factory=NoProperties)

    # (JSON text, its size in bytes); None until encoded (model_construct, model_copy(update=)).
    _wire: tuple[str, int] | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _fits_one_app_message(self) -> Interaction:
        # Pydantic also runs this for an instance passed as another model's field: encode once.
        if self._wire is None:
            self._wire = _encode(self)
        return self

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        """Copy the interaction; with ``update`` the copy gets its own wire JSON.

        Like pydantic's, the copy is not validated: one that no longer fits one app-message
        raises ProtocolError when it is serialised (``to_json``, ``to_message``).
        """
        copied = super().model_copy(update=update, deep=deep)
        if update:
            try:
                copied._wire = _encode(copied)
            except ValueError:
                copied._wire = None
        return copied

    def to_json(self) -> str:
        """Return the app-message as compact JSON text: exactly what goes on the wire.

        Raises:
            ProtocolError: Only for an interaction made without validation (``model_construct``,
                ``model_copy(update=...)``) that does not fit one app-message.
        """
        return self._encoded()[0]

    def to_message(self) -> dict[str, Any]:
        """Return the JSON-ready app-message, a fresh dict the caller may change.

        Raises:
            ProtocolError: As :meth:`to_json`.
        """
        message: dict[str, Any] = json.loads(self._encoded()[0])
        return message

    @property
    def wire_size(self) -> int:
        """How many bytes the app-message takes on the wire (at most MAX_APP_MESSAGE_BYTES).

        Raises:
            ProtocolError: As :meth:`to_json`.
        """
        return self._encoded()[1]

    def _encoded(self) -> tuple[str, int]:
        if self._wire is None:
            try:
                self._wire = _encode(self)
            except ProtocolError:  # MessageTooLarge: keeps its type and attributes
                raise
            except ValueError as exc:
                raise ProtocolError(None, str(exc)) from None
        return self._wire


def _encode(interaction: Interaction) -> tuple[str, int]:
    message = interaction.model_dump(mode="json", exclude_none=True)
    if not message.get("properties"):
        message.pop("properties", None)
    try:
        text, size = encode_message(message)
    except UnicodeEncodeError:
        raise ValueError("holds characters UTF-8 cannot encode (lone surrogates)") from None
    if size > MAX_APP_MESSAGE_BYTES:
        raise MessageTooLarge(size, MAX_APP_MESSAGE_BYTES)
    return text, size


class RespondInteraction(Interaction):
    """``conversation.respond``."""

    event_type: Literal["conversation.respond"] = "conversation.respond"
    properties: RespondProperties


class EchoInteraction(Interaction):
    """``conversation.echo``."""

    event_type: Literal["conversation.echo"] = "conversation.echo"
    properties: EchoProperties


class InterruptInteraction(Interaction):
    """``conversation.interrupt``: the replica stops talking."""

    event_type: Literal["conversation.interrupt"] = "conversation.interrupt"
    properties: NoProperties = Field(default_factory=NoProperties)


class OverwriteContextInteraction(Interaction):
    """``conversation.overwrite_llm_context``."""

    event_type: Literal["conversation.overwrite_llm_context"] = "conversation.overwrite_llm_context"
    properties: OverwriteContextProperties


class AppendContextInteraction(Interaction):
    """``conversation.append_llm_context``."""

    event_type: Literal["conversation.append_llm_context"] = "conversation.append_llm_context"
    properties: AppendContextProperties


class SensitivityInteraction(Interaction):
    """``conversation.sensitivity``: one sensitivity key."""

    event_type: Literal["conversation.sensitivity"] = "conversation.sensitivity"
    properties: SensitivityProperties


class ToolResultInteraction(Interaction):
    """``conversation.tool_result``."""

    event_type: Literal["conversation.tool_result"] = "conversation.tool_result"
    properties: ToolResultProperties


INTERACTION_TYPES: dict[str, type[Interaction]] = {
    cls.model_fields["event_type"].default: cls
    for cls in (
        RespondInteraction,
        EchoInteraction,
        InterruptInteraction,
        OverwriteContextInteraction,
        AppendContextInteraction,
        SensitivityInteraction,
        ToolResultInteraction,
    )
}
"""The documented interactions; any other event type is refused before it is sent."""

UNDOCUMENTED_ALIASES: dict[str, str] = {
    "conversation.overwrite_context": "conversation.overwrite_llm_context",
    "conversation.append_context": "conversation.append_llm_context",
}
"""Names some third-party snippets use, mapped to the documented names to send instead."""


_I = TypeVar("_I", bound="Interaction")


def _build(cls: type[_I], conversation_id: str, properties: dict[str, Any]) -> _I:
    try:
        return cls.model_validate({"conversation_id": conversation_id, "properties": properties})
    except ValidationError as exc:
        raise ProtocolError.from_validation_error(exc) from None


def respond(conversation_id: str, text: str) -> RespondInteraction:
    """Build a ``conversation.respond``: ``text`` is handled as the user's finished turn.

    Raises:
        ProtocolError: The text is blank or the message would not fit one app-message.
    """
    return _build(RespondInteraction, conversation_id, {"text": text})


def echo_text(
    conversation_id: str, text: str, *, inference_id: str | None = None, done: bool = True
) -> EchoInteraction:
    """Build a text ``conversation.echo``: the replica says ``text`` verbatim.

    For text that may exceed 4 KB use ``split_echo_text``.

    Raises:
        ProtocolError: The text is blank or the message would not fit one app-message.
    """
    props = {"modality": "text", "text": text, "inference_id": inference_id, "done": done}
    return _build(EchoInteraction, conversation_id, props)


def interrupt(conversation_id: str) -> InterruptInteraction:
    """Build a ``conversation.interrupt``: the replica stops talking.

    Raises:
        ProtocolError: The conversation id is blank.
    """
    try:
        return InterruptInteraction(conversation_id=conversation_id)
    except ValidationError as exc:
        raise ProtocolError.from_validation_error(exc) from None


def overwrite_context(conversation_id: str, context: str) -> OverwriteContextInteraction:
    """Build a ``conversation.overwrite_llm_context``: ``context`` replaces the context.

    Raises:
        ProtocolError: The context is blank or too large for one app-message.
    """
    return _build(OverwriteContextInteraction, conversation_id, {"context": context})


def append_context(
    conversation_id: str, context: str, *, job_status: Literal["completed"] | None = None
) -> AppendContextInteraction:
    """Build a ``conversation.append_llm_context``: ``context`` is added to the context.

    Raises:
        ProtocolError: The context is blank or too large, or job_status is not "completed".
    """
    props = {"context": context, "job_status": job_status}
    return _build(AppendContextInteraction, conversation_id, props)


def sensitivity(
    conversation_id: str,
    *,
    pause: SensitivityLevel | None = None,
    interrupt: SensitivityLevel | None = None,
) -> list[SensitivityInteraction]:
    """Build ``conversation.sensitivity`` messages: one per key given (the protocol allows one).

    Args:
        conversation_id: The conversation to change.
        pause: New ``participant_pause_sensitivity``.
        interrupt: New ``participant_interrupt_sensitivity``.

    Returns:
        One message, or two when both levels are given (pause first).

    Raises:
        ProtocolError: Neither level is given, or a level is not one of SENSITIVITY_LEVELS.
    """
    keyed = (
        ("participant_pause_sensitivity", pause),
        ("participant_interrupt_sensitivity", interrupt),
    )
    messages: list[SensitivityInteraction] = [
        _build(SensitivityInteraction, conversation_id, {key: level})
        for key, level in keyed
        if level is not None
    ]
    if not messages:
        raise ProtocolError("properties", "give a pause or an interrupt sensitivity (or both)")
    return messages


def tool_result(
    conversation_id: str,
    tool_call_id: str,
    output: str | dict[str, Any] | list[Any],
    *,
    status: Literal["success", "error"] = "success",
) -> ToolResultInteraction:
    """Build a ``conversation.tool_result`` answering the tool call ``tool_call_id``.

    Args:
        conversation_id: The conversation the tool call came from.
        tool_call_id: The ``tool_call_id`` of the tool call.
        output: The result; an object or list is sent JSON-encoded.
        status: ``"success"`` or ``"error"``.

    Raises:
        ProtocolError: A field is invalid or the message would not fit one app-message.
    """
    props = {"tool_call_id": tool_call_id, "output": output, "status": status}
    return _build(ToolResultInteraction, conversation_id, props)
