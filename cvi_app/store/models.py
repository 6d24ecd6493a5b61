"""The store's tables, and the shapes callers create rows from.

Each entity has a table model and, where it helps, a create shape (validated input that carries
no database-generated fields) and a public shape (what readers get back).

The official transcript: live utterances are events (`conversation.utterance`, with the speech in
`ConversationEvent.text`); the transcript Tavus sends after the call in
`application.transcription_ready` is stored line by line in `TranscriptLine`. Readers get both as
`TranscriptEntry`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, model_validator
from sqlalchemy import BigInteger, CheckConstraint, Index, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from cvi_app.store.keys import event_dedupe_key
from cvi_app.store.types import BigIntPK, UTCDateTime, utc_now

__all__ = [
    "Conversation",
    "ConversationCreate",
    "ConversationEvent",
    "ConversationMode",
    "ConversationStatus",
    "EventSource",
    "NewEvent",
    "ToolCall",
    "ToolCallCreate",
    "ToolCallStatus",
    "TranscriptEntry",
    "TranscriptLine",
    "TranscriptLineCreate",
    "WebhookDelivery",
    "WebhookDeliveryCreate",
]

ConversationMode = Literal["sandbox", "tavus"]
ConversationStatus = Literal["active", "ended"]
EventSource = Literal["room", "webhook", "app"]
ToolCallStatus = Literal["pending", "success", "error"]

ID_LENGTH = 128
NAME_LENGTH = 255
TYPE_LENGTH = 128
TAG_LENGTH = 16


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


# --- conversations ----------------------------------------------------------------------------


class ConversationCreate(SQLModel):
    """What the app knows about a conversation when it creates one."""

    conversation_id: str = Field(min_length=1, max_length=ID_LENGTH)
    mode: ConversationMode
    name: str = Field(default="", max_length=NAME_LENGTH)
    persona_id: str | None = Field(default=None, max_length=ID_LENGTH)
    replica_id: str | None = Field(default=None, max_length=ID_LENGTH)
    conversation_url: str | None = Field(default=None, max_length=2048)
    owner_session: str | None = Field(default=None, max_length=ID_LENGTH)
    started_by: str | None = Field(default=None, max_length=254)
    max_call_duration: int | None = Field(default=None, ge=1)
    context: str | None = None
    greeting: str | None = None
    deployment_id: int | None = None
    visitor: str | None = Field(default=None, max_length=ID_LENGTH)


class Conversation(SQLModel, table=True):
    """One CVI conversation the app created; `conversation_id` is Tavus's (or the sandbox's) id."""

    __tablename__ = "conversation"
    __table_args__ = (
        CheckConstraint(_in("mode", ("sandbox", "tavus")), name="ck_conversation_mode"),
        CheckConstraint(_in("status", ("active", "ended")), name="ck_conversation_status"),
        Index("ix_conversation_created_at", "created_at"),
        Index("ix_conversation_status_created_at", "status", "created_at"),
        Index("ix_conversation_name", "name"),
        Index("ix_conversation_owner_session", "owner_session"),
        Index("ix_conversation_deployment_status", "deployment_id", "status"),
        CheckConstraint("rating IS NULL OR rating BETWEEN 1 AND 5", name="ck_conversation_rating"),
    )

    conversation_id: str = Field(primary_key=True, sa_type=String(ID_LENGTH))
    mode: str = Field(sa_type=String(TAG_LENGTH))
    name: str = Field(default="", sa_type=String(NAME_LENGTH))
    persona_id: str | None = Field(default=None, sa_type=String(ID_LENGTH))
    replica_id: str | None = Field(default=None, sa_type=String(ID_LENGTH))
    conversation_url: str | None = Field(default=None, sa_type=String(2048))
    status: str = Field(default="active", sa_type=String(TAG_LENGTH))
    owner_session: str | None = Field(default=None, sa_type=String(ID_LENGTH))
    started_by: str | None = Field(default=None, sa_type=String(254))
    """The signed-in account (its email) that started it; None without accounts."""
    max_call_duration: int | None = None
    """Seconds the call may last, as it was started (the console warns near the end)."""
    context: str | None = Field(default=None, sa_type=Text)
    greeting: str | None = Field(default=None, sa_type=Text)
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    shutdown_reason: str | None = Field(default=None, sa_type=Text)
    deployment_id: int | None = None
    """The public page a visitor started it from (`cvi_app.deployments`), if any."""
    visitor: str | None = Field(default=None, sa_type=String(ID_LENGTH))
    """The visitor's browser identity (never a cookie), for conversations from a page."""
    rating: int | None = None
    """The visitor's 1-5 rating, given on the end screen."""
    rating_comment: str | None = Field(default=None, sa_type=Text)
    recording_location: str | None = Field(default=None, sa_type=String(2048))
    """Where Tavus put the call's recording (`application.recording_ready`), if it was recorded."""


# --- events -----------------------------------------------------------------------------------


class NewEvent(SQLModel):
    """One event to store: received from the room or a webhook, or sent by the app.

    `dedupe_key` is fixed when the object is made (see `keys.event_dedupe_key`), so a retried
    write of the same object can never store it twice.
    """

    conversation_id: str = Field(min_length=1, max_length=ID_LENGTH)
    event_type: str = Field(min_length=1, max_length=TYPE_LENGTH)
    source: EventSource
    raw: str
    seq: int | None = Field(default=None, ge=-(2**63), lt=2**63)
    turn_idx: int | None = Field(default=None, ge=-(2**31), lt=2**31)
    inference_id: str | None = Field(default=None, max_length=ID_LENGTH)
    role: str | None = Field(default=None, max_length=TAG_LENGTH)
    text: str | None = None
    sent_at: AwareDatetime | None = None
    received_at: AwareDatetime = Field(default_factory=utc_now)
    dedupe_key: str = Field(default="", max_length=ID_LENGTH)
    update_id: int | None = Field(default=None, ge=1, lt=2**63)
    """The live session's number for this update (increasing per conversation), when it has one."""

    @model_validator(mode="after")
    def _fix_dedupe_key(self) -> NewEvent:
        if not self.dedupe_key:
            self.dedupe_key = event_dedupe_key(seq=self.seq, source=self.source, raw=self.raw)
        return self


class ConversationEvent(SQLModel, table=True):
    """One stored event. The same event delivered twice is stored once (`dedupe_key`)."""

    __tablename__ = "conversation_event"
    __table_args__ = (
        UniqueConstraint("conversation_id", "dedupe_key", name="uq_conversation_event_dedupe"),
        CheckConstraint(
            _in("source", ("room", "webhook", "app")), name="ck_conversation_event_source"
        ),
        Index("ix_conversation_event_conversation_seq", "conversation_id", "seq"),
        Index("ix_conversation_event_conversation_id_id", "conversation_id", "id"),
        Index(
            "ix_conversation_event_conversation_type_seq", "conversation_id", "event_type", "seq"
        ),
        Index("ix_conversation_event_conversation_update", "conversation_id", "update_id"),
    )

    id: int | None = Field(default=None, primary_key=True, sa_type=BigIntPK)
    conversation_id: str = Field(
        foreign_key="conversation.conversation_id", ondelete="CASCADE", sa_type=String(ID_LENGTH)
    )
    seq: int | None = Field(default=None, sa_type=BigInteger)
    event_type: str = Field(sa_type=String(TYPE_LENGTH))
    turn_idx: int | None = None
    inference_id: str | None = Field(default=None, sa_type=String(ID_LENGTH))
    role: str | None = Field(default=None, sa_type=String(TAG_LENGTH))
    text: str | None = Field(default=None, sa_type=Text)
    source: str = Field(sa_type=String(TAG_LENGTH))
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    received_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    raw: str = Field(sa_type=Text)
    dedupe_key: str = Field(sa_type=String(ID_LENGTH))
    # The session's update id: a restore reads the store up to the first update it holds in
    # memory, so nothing is missed or shown twice. None for rows stored without a session.
    update_id: int | None = Field(default=None, sa_type=BigInteger)


# --- tool calls -------------------------------------------------------------------------------


class ToolCallCreate(SQLModel):
    """A tool call the replica asked for. Callers give calls without an id a stable one."""

    conversation_id: str = Field(min_length=1, max_length=ID_LENGTH)
    tool_call_id: str = Field(min_length=1, max_length=ID_LENGTH)
    name: str = Field(min_length=1, max_length=NAME_LENGTH)
    arguments: str = "{}"
    inference_id: str | None = Field(default=None, max_length=ID_LENGTH)
    started_at: AwareDatetime = Field(default_factory=utc_now)


class ToolCall(SQLModel, table=True):
    """A tool call and, once it finished, its result. Stored once per `tool_call_id`."""

    __tablename__ = "tool_call"
    __table_args__ = (
        UniqueConstraint("conversation_id", "tool_call_id", name="uq_tool_call_conversation_call"),
        CheckConstraint(_in("status", ("pending", "success", "error")), name="ck_tool_call_status"),
    )

    id: int | None = Field(default=None, primary_key=True, sa_type=BigIntPK)
    conversation_id: str = Field(
        foreign_key="conversation.conversation_id", ondelete="CASCADE", sa_type=String(ID_LENGTH)
    )
    tool_call_id: str = Field(sa_type=String(ID_LENGTH))
    name: str = Field(sa_type=String(NAME_LENGTH))
    inference_id: str | None = Field(default=None, sa_type=String(ID_LENGTH))
    arguments: str = Field(default="{}", sa_type=Text)
    result: str | None = Field(default=None, sa_type=Text)
    status: str = Field(default="pending", sa_type=String(TAG_LENGTH))
    started_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    latency_ms: float | None = None


# --- webhooks ---------------------------------------------------------------------------------


class WebhookDeliveryCreate(SQLModel):
    """One webhook POST as received (already checked to be a JSON object by the endpoint)."""

    conversation_id: str = Field(min_length=1, max_length=ID_LENGTH)
    event_type: str = Field(min_length=1, max_length=TYPE_LENGTH)
    message_type: str | None = Field(default=None, max_length=TAG_LENGTH)
    payload: str
    received_at: AwareDatetime = Field(default_factory=utc_now)


class WebhookDelivery(SQLModel, table=True):
    """A webhook delivery; a redelivery of the same payload is stored once (`dedupe_hash`)."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (
        UniqueConstraint("dedupe_hash", name="uq_webhook_delivery_dedupe_hash"),
        Index("ix_webhook_delivery_conversation_received", "conversation_id", "received_at"),
    )

    id: int | None = Field(default=None, primary_key=True, sa_type=BigIntPK)
    conversation_id: str = Field(sa_type=String(ID_LENGTH))
    event_type: str = Field(sa_type=String(TYPE_LENGTH))
    message_type: str | None = Field(default=None, sa_type=String(TAG_LENGTH))
    received_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    payload: str = Field(sa_type=Text)
    dedupe_hash: str = Field(sa_type=String(64))


# --- transcripts ------------------------------------------------------------------------------


class TranscriptLineCreate(SQLModel):
    """One entry of `application.transcription_ready`'s `transcript` list."""

    role: str = Field(min_length=1, max_length=TAG_LENGTH)
    content: str | None = None
    inference_id: str | None = Field(default=None, max_length=ID_LENGTH)
    spoken_at: AwareDatetime | None = None
    seconds_from_start: float | None = None
    duration: float | None = None


class TranscriptLine(SQLModel, table=True):
    """A line of the official transcript; `position` is its index in Tavus's list."""

    __tablename__ = "transcript_line"
    __table_args__ = (
        UniqueConstraint("conversation_id", "position", name="uq_transcript_line_position"),
    )

    id: int | None = Field(default=None, primary_key=True, sa_type=BigIntPK)
    conversation_id: str = Field(
        foreign_key="conversation.conversation_id", ondelete="CASCADE", sa_type=String(ID_LENGTH)
    )
    position: int
    role: str = Field(sa_type=String(TAG_LENGTH))
    content: str | None = Field(default=None, sa_type=Text)
    inference_id: str | None = Field(default=None, sa_type=String(ID_LENGTH))
    spoken_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    seconds_from_start: float | None = None
    duration: float | None = None


class TranscriptEntry(SQLModel):
    """One line of a transcript as readers see it, live or official.

    `position` orders the lines and is the paging cursor: the event's `seq` for live utterances,
    the index in Tavus's list for the official transcript.
    """

    position: int
    role: str
    text: str
    inference_id: str | None = None
    at: datetime | None = None
