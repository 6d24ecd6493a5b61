"""What a conversation on a host page starts with, signed so the browser cannot change it.

`kit.conversation(State, persona="p1", greeting="Hi")` puts its settings in the page as a
signed token (`sign_preset`); the Start button sends the token back and the server reads it
with `read_preset`, so a visitor editing the page cannot start another persona or a longer call.
The signing key is the app's own (`CVI_SECRET_KEY`), which the page's build and its server share.
Signed, not encrypted: a visitor can read the settings, so private ones belong in the state's
`settings` (kept on the server).
"""

from __future__ import annotations

from itsdangerous import BadSignature, URLSafeSerializer
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from cvi_app.config import get_settings

__all__ = [
    "PRESET_REFUSED",
    "Preset",
    "PresetRefused",
    "Settings",
    "read_preset",
    "sign_preset",
]

PRESET_REFUSED = "This page's conversation settings were changed. Reload the page and try again."
_SALT = "cvi-kit-preset"
MAX_TOKEN_CHARS = 40_000


class Preset(BaseModel):
    """A conversation's settings, as a host page gives them (every one optional)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    persona_id: str | None = Field(default=None, max_length=128)
    replica_id: str | None = Field(default=None, max_length=128)
    name: str = Field(default="", max_length=200)
    greeting: str = Field(default="", max_length=2_000)
    context: str = Field(default="", max_length=20_000)
    language: str = Field(default="", max_length=32)
    max_call_duration: int | None = Field(default=None, ge=10, le=24 * 3600)
    participant_left_timeout: int | None = Field(default=None, ge=0, le=3600)


class Settings(Preset):
    """A `ConversationState` subclass's own settings: `settings = kit.Settings(persona_id=...)`.

    A descriptor, so Reflex leaves it a plain class attribute (not a var a browser could set).
    """

    def __get__(self, instance: object, owner: type | None = None) -> Settings:
        return self


class PresetRefused(ValueError):
    """The token is not one this app signed, or its settings are not valid."""

    def __init__(self) -> None:
        super().__init__(PRESET_REFUSED)


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(get_settings().secret_key.get_secret_value(), salt=_SALT)


def sign_preset(preset: Preset) -> str:
    """The preset as a token to put in the page."""
    return str(_serializer().dumps(preset.model_dump(exclude_defaults=True)))


def read_preset(token: str) -> Preset:
    """The preset a token carries.

    Raises:
        PresetRefused: The token was changed, is too long, or does not hold valid settings.
    """
    if not token:
        return Preset()
    if len(token) > MAX_TOKEN_CHARS:
        raise PresetRefused
    try:
        return Preset.model_validate(_serializer().loads(token))
    except (BadSignature, ValidationError, TypeError):
        raise PresetRefused from None
