"""What a person "says" in the sandbox call view: typed text standing in for their voice.

The call view sends it as an app-message to everyone; the simulated replica treats it like
speech it heard (user started/stopped speaking, user utterance, then its reply).
"""

from __future__ import annotations

from typing import Annotated, Any, Final, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

__all__ = ["USER_SPEECH_EVENT", "UserSpeech", "UserSpeechProperties", "parse_user_speech"]

USER_SPEECH_EVENT: Final = "sandbox.user_speech"


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must hold more than white space")
    return value


class UserSpeechProperties(BaseModel):
    """The words the person said."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    text: Annotated[str, AfterValidator(_not_blank), Field(max_length=3000)]


class UserSpeech(BaseModel):
    """`{"message_type": "sandbox", "event_type": "sandbox.user_speech", "properties": {"text"}}`."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    message_type: Literal["sandbox"] = "sandbox"
    event_type: Literal["sandbox.user_speech"] = USER_SPEECH_EVENT
    conversation_id: str | None = None
    properties: UserSpeechProperties

    @classmethod
    def build(cls, text: str, *, conversation_id: str | None = None) -> UserSpeech:
        """Build the message for `text` (raises ValidationError when it is blank)."""
        return cls(conversation_id=conversation_id, properties=UserSpeechProperties(text=text))

    def to_message(self) -> dict[str, Any]:
        """The JSON-ready app-message."""
        return self.model_dump(mode="json", exclude_none=True)


def parse_user_speech(data: dict[str, Any]) -> UserSpeech | None:
    """Read a sandbox user-speech app-message.

    Returns:
        The message, or None when `data` is not a sandbox message at all.

    Raises:
        ValueError: `data` is a sandbox message but not a valid user-speech one.
    """
    if data.get("message_type") != "sandbox":
        return None
    try:
        return UserSpeech.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ValueError(f"bad sandbox message: {where}: {first['msg']}") from exc
