"""What the sandbox keeps about a conversation, and how it shows it through the REST API."""

from __future__ import annotations

import hmac
import secrets
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from cvi_app.tavus.models import ConversationProperties, Persona, Replica

__all__ = [
    "FACE_NAMES",
    "PAL_NAMES",
    "SandboxConversation",
    "new_conversation_id",
    "new_meeting_token",
    "new_persona_id",
    "persona_document",
    "replica_document",
    "utc_now",
]

PAL_NAMES = {
    "persona_id": "pal_id",
    "persona_name": "pal_name",
    "default_replica_id": "default_face_id",
    "persona_type": "pal_type",
}
"""The newer API calls personas PALs, with these field names."""
FACE_NAMES = {"replica_id": "face_id", "replica_name": "face_name", "replica_type": "face_type"}
"""The newer API calls replicas faces, with these field names."""


def utc_now() -> datetime:
    """The current time, timezone-aware (UTC)."""
    return datetime.now(UTC)


def _tavus_id(prefix: str) -> str:
    # Tavus ids are one letter and 11 hex digits (`c4a9bd7e26f1`, `pcb7a34da5fe`).
    return prefix + secrets.token_hex(6)[:11]


def new_conversation_id() -> str:
    """A fresh conversation id shaped like Tavus's (`c` + 11 hex digits)."""
    return _tavus_id("c")


def new_persona_id() -> str:
    """A fresh persona id shaped like Tavus's (`p` + 11 hex digits)."""
    return _tavus_id("p")


def new_meeting_token() -> str:
    """An unguessable token for joining a conversation created with `require_auth`."""
    return secrets.token_urlsafe(24)


class SandboxConversation(BaseModel):
    """One conversation of the sandbox, with everything the room, replica and timers need.

    The registry creates and mutates it; the runtime reads it (`persona.tools`,
    `persona.perception_enabled`, `properties.max_call_duration`, ...).
    """

    model_config = ConfigDict(validate_assignment=False)

    conversation_id: str
    conversation_name: str
    conversation_url: str
    status: Literal["active", "ended"] = "active"
    callback_url: str | None = None
    created_at: datetime = Field(default_factory=utc_now)
    updated_at: datetime = Field(default_factory=utc_now)
    ended_at: datetime | None = None
    replica_id: str
    replica: Replica
    persona_id: str
    persona: Persona
    conversational_context: str | None = None
    custom_greeting: str | None = None
    test_mode: bool = False
    require_auth: bool = False
    meeting_token: str | None = None
    max_participants: int | None = None
    audio_only: bool = False
    properties: ConversationProperties = Field(default_factory=ConversationProperties)
    shutdown_reason: str | None = None
    events: list[dict[str, Any]] = Field(default_factory=list)
    deleted: bool = False

    @property
    def is_active(self) -> bool:
        """Whether the conversation is live (counts toward the concurrency limit)."""
        return self.status == "active" and not self.deleted

    def token_allows(self, token: str | None) -> bool:
        """Whether a join token admits a participant (always true without `require_auth`).

        Args:
            token: The `t` query parameter the participant presented, if any.
        """
        if not self.require_auth:
            return True
        if not token or self.meeting_token is None:
            return False
        return hmac.compare_digest(token.encode(), self.meeting_token.encode())

    def to_api(self, *, verbose: bool = False) -> dict[str, Any]:
        """The conversation as Tavus's REST API shows it.

        Args:
            verbose: Add `events`, the webhook-shaped record (what
                `GET /conversations/{id}?verbose=true` returns).
        """
        body: dict[str, Any] = {
            "conversation_id": self.conversation_id,
            "conversation_name": self.conversation_name,
            "conversation_url": self.conversation_url,
            "status": self.status,
            "replica_id": self.replica_id,
            "persona_id": self.persona_id,
            "created_at": _iso(self.created_at),
            "updated_at": _iso(self.updated_at),
        }
        # The document types `callback_url` as a string: without one, it is left out.
        if self.callback_url is not None:
            body["callback_url"] = self.callback_url
        if self.meeting_token is not None:
            body["meeting_token"] = self.meeting_token
        if self.shutdown_reason is not None:
            body["shutdown_reason"] = self.shutdown_reason
        if verbose:
            body["events"] = [dict(event) for event in self.events]
        return body


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def persona_document(persona: Persona, *, pal_names: bool = False) -> dict[str, Any]:
    """A persona as the API shows it (and as JSON Patch paths address it).

    Args:
        persona: The persona.
        pal_names: Use the newer PAL field names (`pal_id`, `pal_name`, `default_face_id`).
    """
    document = persona.model_dump(mode="json", exclude_none=True)
    return _renamed(document, PAL_NAMES) if pal_names else document


def replica_document(replica: Replica, *, face_names: bool = False) -> dict[str, Any]:
    """A replica as the API shows it; `face_names` uses the newer names (`face_id`, ...)."""
    document = replica.model_dump(mode="json", exclude_none=True)
    return _renamed(document, FACE_NAMES) if face_names else document


def _renamed(document: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    return {names.get(key, key): value for key, value in document.items()}
