"""A deployment: a customer-facing page (`/p/<slug>`) that starts conversations for visitors.

`Deployment` is the table; `DeploymentForm` is what an operator fills in, checked field by
field with a plain sentence for each refusal (`form_errors`).
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, ValidationError, field_validator
from sqlalchemy import CheckConstraint, Index, Integer, String, Text
from sqlmodel import Field as ColumnField
from sqlmodel import SQLModel

from cvi_app.store.types import UTCDateTime, utc_now

__all__ = [
    "ACCESS_KINDS",
    "Access",
    "Deployment",
    "DeploymentForm",
    "GuestInviteRecord",
    "form_errors",
]

Access = Literal["public", "code", "link"]
ACCESS_KINDS: tuple[Access, ...] = ("public", "code", "link")

SLUG_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,46}[a-z0-9])?$")
COLOUR_PATTERN = re.compile(r"^#[0-9a-fA-F]{6}$")
MAX_ORIGINS = 10
RESERVED_SLUGS = frozenset({"new", "edit", "admin", "api", "static"})


class Deployment(SQLModel, table=True):
    """One public page and how its conversations start."""

    __tablename__ = "deployment"
    __table_args__ = (
        CheckConstraint("access IN ('public', 'code', 'link')", name="ck_deployment_access"),
        Index("ix_deployment_slug", "slug", unique=True),
        Index("ix_deployment_owner_session", "owner_session"),
    )

    id: int | None = ColumnField(default=None, primary_key=True, sa_type=Integer)
    slug: str = ColumnField(sa_type=String(48))
    title: str = ColumnField(sa_type=String(120))
    intro: str = ColumnField(default="", sa_type=Text)
    logo_url: str = ColumnField(default="", sa_type=String(2048))
    accent_color: str = ColumnField(default="#3e63dd", sa_type=String(7))
    persona_id: str = ColumnField(default="", sa_type=String(128))
    replica_id: str = ColumnField(default="", sa_type=String(128))
    greeting: str = ColumnField(default="", sa_type=Text)
    context: str = ColumnField(default="", sa_type=Text)
    language: str = ColumnField(default="english", sa_type=String(32))
    captions: bool = True
    transparent: bool = False
    """The replica on the page's own background (`apply_greenscreen`, keyed in the browser)."""
    record: bool = False
    """Tavus records the calls (`enable_recording`); tavus mode only."""
    max_live: int = 5
    """Conversations the page may have live at once."""
    starts_per_hour: int = 3
    """Conversations one visitor may start in an hour."""
    max_duration_s: int = 600
    access: str = ColumnField(default="public", sa_type=String(8))
    access_code_hash: str | None = ColumnField(default=None, sa_type=String(255))
    allowed_origins: str = ColumnField(default="[]", sa_type=Text)
    """A JSON list of the origins that may frame the page (`?embed=1`)."""
    enabled: bool = True
    owner_session: str = ColumnField(sa_type=String(128))
    """Whose conversations the visitors' are: the team, or (without accounts) the browser that
    made the page."""
    created_by: str = ColumnField(default="", sa_type=String(254))
    created_at: datetime = ColumnField(default_factory=utc_now, sa_type=UTCDateTime)
    updated_at: datetime = ColumnField(default_factory=utc_now, sa_type=UTCDateTime)

    def origins(self) -> list[str]:
        """The origins that may frame the page."""
        try:
            value = json.loads(self.allowed_origins or "[]")
        except ValueError:
            return []
        return [o for o in value if isinstance(o, str)][:MAX_ORIGINS]


class GuestInviteRecord(SQLModel, table=True):
    """An invitation into a live conversation's call, and the one browser that took it."""

    __tablename__ = "guest_invite"
    __table_args__ = (Index("ix_guest_invite_conversation", "conversation_id"),)

    invite_id: str = ColumnField(primary_key=True, sa_type=String(32))
    conversation_id: str = ColumnField(sa_type=String(128))
    created_by: str = ColumnField(default="", sa_type=String(254))
    created_at: datetime = ColumnField(default_factory=utc_now, sa_type=UTCDateTime)
    expires_at: datetime = ColumnField(sa_type=UTCDateTime)
    claimed_by: str | None = ColumnField(default=None, sa_type=String(128))
    """The browser identity that used it first; nobody else may."""
    claimed_at: datetime | None = ColumnField(default=None, sa_type=UTCDateTime)


class DeploymentForm(BaseModel):
    """What an operator sets for a page (every field checked before anything is stored)."""

    slug: str = Field(min_length=1, max_length=48)
    title: str = Field(min_length=1, max_length=120)
    intro: str = Field(default="", max_length=1_000)
    logo_url: str = Field(default="", max_length=2048)
    accent_color: str = "#3e63dd"
    persona_id: str = Field(default="", max_length=128)
    replica_id: str = Field(default="", max_length=128)
    greeting: str = Field(default="", max_length=2_000)
    context: str = Field(default="", max_length=20_000)
    language: str = Field(default="english", min_length=1, max_length=32)
    captions: bool = True
    transparent: bool = False
    record: bool = False
    max_live: int = Field(default=5, ge=1, le=1_000)
    starts_per_hour: int = Field(default=3, ge=1, le=1_000)
    max_duration_s: int = Field(default=600, ge=30, le=4 * 3600)
    access: Access = "public"
    access_code: str = Field(default="", max_length=64)
    """A new access code ("" keeps the one stored)."""
    allowed_origins: list[str] = Field(default_factory=list, max_length=MAX_ORIGINS)

    @field_validator("slug")
    @classmethod
    def _slug(cls, value: str) -> str:
        value = value.strip().lower()
        if not SLUG_PATTERN.match(value):
            raise ValueError(
                "The address may use only lower-case letters, digits and dashes "
                "(not at the start or end), at most 48 of them."
            )
        if value in RESERVED_SLUGS:
            raise ValueError(f"The address {value!r} is reserved; choose another.")
        return value

    @field_validator("title", "language")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("This cannot be empty.")
        return value

    @field_validator("logo_url")
    @classmethod
    def _logo(cls, value: str) -> str:
        value = value.strip()
        if value and not (value.startswith("/") and not value.startswith("//")):
            parts = urlsplit(value)
            if parts.scheme != "https" or not parts.netloc:
                raise ValueError("The logo must be an https:// address or a path on this site.")
        return value

    @field_validator("accent_color")
    @classmethod
    def _colour(cls, value: str) -> str:
        value = value.strip()
        if not COLOUR_PATTERN.match(value):
            raise ValueError("The accent colour must look like #3e63dd.")
        return value.lower()

    @field_validator("allowed_origins")
    @classmethod
    def _origins(cls, values: list[str]) -> list[str]:
        cleaned: list[str] = []
        for raw in values:
            value = raw.strip().rstrip("/")
            if not value:
                continue
            parts = urlsplit(value)
            if (
                parts.scheme not in ("http", "https")
                or not parts.netloc
                or parts.path
                or parts.query
                or "*" in value
            ):
                raise ValueError(
                    f"{raw.strip()!r} is not an origin: write it as https://example.com "
                    "(scheme and host, an optional port, nothing after)."
                )
            if value not in cleaned:
                cleaned.append(value)
        return cleaned


_FIELD_NAMES = {
    "slug": "Address",
    "title": "Title",
    "intro": "Introduction",
    "logo_url": "Logo",
    "accent_color": "Accent colour",
    "greeting": "Greeting",
    "context": "Context",
    "language": "Language",
    "max_live": "Conversations at once",
    "starts_per_hour": "Starts per visitor per hour",
    "max_duration_s": "Longest conversation",
    "access": "Access",
    "access_code": "Access code",
    "allowed_origins": "Sites that may embed the page",
}


def form_errors(exc: ValidationError) -> list[str]:
    """One plain sentence per refused field of a `DeploymentForm`."""
    sentences = []
    for error in exc.errors():
        field = str(error["loc"][0]) if error["loc"] else ""
        name = _FIELD_NAMES.get(field, field.replace("_", " ").capitalize())
        message = str(error.get("ctx", {}).get("error", "")) or error["msg"]
        if error["type"] == "string_too_long":
            message = f"at most {error['ctx']['max_length']} characters"
        elif error["type"] in ("greater_than_equal", "less_than_equal"):
            bound = error["ctx"].get("ge", error["ctx"].get("le"))
            word = "at least" if error["type"] == "greater_than_equal" else "at most"
            message = f"{word} {bound}"
        elif error["type"] == "string_too_short":
            message = "This cannot be empty."
        elif error["type"] == "too_long":
            message = f"at most {MAX_ORIGINS}"
        elif error["type"] in ("int_parsing", "int_type"):
            message = "a whole number"
        sentences.append(f"{name}: {message.rstrip('.')}.")
    return sentences
