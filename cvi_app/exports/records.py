"""What an export holds, read from the store: the conversation, its transcript, its raw record.

Readers take the caller's session (`run_in_transaction` from async code) and read everything
page by page, so a conversation of any length is read in bounded queries.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import Any, Literal, TypeVar

from pydantic import BaseModel
from sqlmodel import Session, col, select

from cvi_app.exports.timing import CueInput, cue_times
from cvi_app.presentation.text import speaker
from cvi_app.protocol import (
    ProtocolError,
    ReplicaStoppedSpeakingEvent,
    StoppedSpeakingEvent,
    UserStoppedSpeakingEvent,
    parse_event,
)
from cvi_app.store import (
    Conversation,
    ConversationEvent,
    TranscriptLine,
    WebhookDelivery,
    list_events,
    list_events_by_arrival,
    list_webhook_deliveries,
)

__all__ = [
    "PAGE",
    "ConversationInfo",
    "RawRecord",
    "SpokenLine",
    "TranscriptDoc",
    "load_raw_records",
    "load_transcript",
]

PAGE = 1000
UTTERANCE = "conversation.utterance"
STOPPED_TYPES = (ReplicaStoppedSpeakingEvent, UserStoppedSpeakingEvent, StoppedSpeakingEvent)
SPOKEN_ROLES = frozenset({"user", "replica", "assistant"})


class ConversationInfo(BaseModel):
    """A conversation as exports describe it (never its owner token or room URL)."""

    conversation_id: str
    name: str
    mode: str
    status: str
    persona_id: str | None
    replica_id: str | None
    created_at: datetime
    ended_at: datetime | None
    shutdown_reason: str | None

    @classmethod
    def from_row(cls, row: Conversation) -> ConversationInfo:
        """The export view of a stored conversation."""
        return cls.model_validate(row, from_attributes=True)

    @property
    def title(self) -> str:
        """The name, or the id when it has none."""
        return self.name or f"Conversation {self.conversation_id}"


class SpokenLine(BaseModel):
    """One transcript line; `start`/`end` are seconds from `TranscriptDoc.origin`."""

    index: int
    role: str
    speaker: str
    text: str
    at: datetime | None = None
    start: float | None = None
    end: float | None = None
    inference_id: str | None = None

    @property
    def spoken(self) -> bool:
        """Whether a person or the replica said it (not a system prompt or a tool result)."""
        return self.role in SPOKEN_ROLES and bool(self.text.strip())


class TranscriptDoc(BaseModel):
    """A conversation's transcript: the official one when Tavus sent it, else the live one."""

    conversation: ConversationInfo
    source: Literal["official", "live"]
    origin: datetime
    lines: list[SpokenLine]


class RawRecord(BaseModel):
    """One stored event or webhook delivery, as received."""

    kind: Literal["event", "webhook"]
    id: int
    source: str
    event_type: str
    seq: int | None = None
    turn_idx: int | None = None
    inference_id: str | None = None
    role: str | None = None
    sent_at: datetime | None = None
    received_at: datetime
    message: Any


def load_transcript(session: Session, *, conversation: Conversation) -> TranscriptDoc:
    """The conversation's transcript with cue timings.

    The official transcript (`application.transcription_ready`) wins when stored; its
    `seconds_from_start`/`duration` time the lines. Otherwise the live utterances are timed
    from their events, relative to the conversation's first event.
    """
    cid = conversation.conversation_id
    events = list(_seq_events(session, cid))
    origin = _origin(session, cid, events, fallback=conversation.created_at)
    official = _official_lines(session, cid)
    info = ConversationInfo.from_row(conversation)
    if official:
        lines, cues = _from_official(official, origin)
        source: Literal["official", "live"] = "official"
    else:
        lines, cues = _from_events(events, origin)
        source = "live"
    spoken = [line for line in lines if line.spoken]
    for line, (start, end) in zip(
        spoken, cue_times([cues[line.index] for line in spoken]), strict=True
    ):
        line.start, line.end = start, end
    return TranscriptDoc(conversation=info, source=source, origin=origin, lines=lines)


def load_raw_records(session: Session, *, conversation_id: str) -> list[RawRecord]:
    """Every stored event and webhook delivery of a conversation, in the order they arrived."""
    records = [_event_record(row) for row in _arrival_events(session, conversation_id)]
    records += [_webhook_record(row) for row in _deliveries(session, conversation_id)]
    # Stable: events keep their stored order among equal times, then webhooks.
    records.sort(key=lambda record: (record.received_at, record.kind != "event"))
    return records


# ---- transcripts -----------------------------------------------------------------------------


def _from_official(
    rows: list[TranscriptLine], origin: datetime
) -> tuple[list[SpokenLine], list[CueInput]]:
    lines: list[SpokenLine] = []
    cues: list[CueInput] = []
    for index, row in enumerate(rows):
        text = row.content or ""
        at = row.seconds_from_start
        if at is None and row.spoken_at is not None:
            at = (row.spoken_at - origin).total_seconds()
        lines.append(
            SpokenLine(
                index=index,
                role=row.role,
                speaker=speaker(row.role),
                text=text,
                at=row.spoken_at,
                inference_id=row.inference_id,
            )
        )
        cues.append(CueInput(text=text, at=at, duration=row.duration))
    return lines, cues


def _from_events(
    events: list[ConversationEvent], origin: datetime
) -> tuple[list[SpokenLine], list[CueInput]]:
    durations = _durations(events)
    lines: list[SpokenLine] = []
    cues: list[CueInput] = []
    for row in events:
        if row.event_type != UTTERANCE:
            continue
        role = row.role or "replica"
        at = _time(row)
        text = row.text or ""
        key = (role, row.inference_id or f"turn:{row.turn_idx}")
        lines.append(
            SpokenLine(
                index=len(lines),
                role=role,
                speaker=speaker(role),
                text=text,
                at=at,
                inference_id=row.inference_id,
            )
        )
        cues.append(
            CueInput(
                text=text,
                at=(at - origin).total_seconds(),
                duration=durations.get(key) or durations.get((role, f"turn:{row.turn_idx}")),
                reported_at_end=role == "user",
            )
        )
    return lines, cues


def _durations(events: list[ConversationEvent]) -> dict[tuple[str, str], float]:
    """Known speech durations, keyed by (role, inference id) and by (role, turn)."""
    found: dict[tuple[str, str], float] = {}
    for row in events:
        if not row.event_type.endswith("stopped_speaking"):
            continue
        try:
            event = parse_event(row.raw)
        except ProtocolError:
            continue
        if not isinstance(event, STOPPED_TYPES) or event.properties.duration is None:
            continue
        role = event.role or row.role or ""
        if event.inference_id:
            found[(role, event.inference_id)] = event.properties.duration
        if event.turn_idx is not None:
            found[(role, f"turn:{event.turn_idx}")] = event.properties.duration
    return found


def _official_lines(session: Session, cid: str) -> list[TranscriptLine]:
    rows: list[TranscriptLine] = []
    position = col(TranscriptLine.position)
    while True:
        query = select(TranscriptLine).where(TranscriptLine.conversation_id == cid)
        if rows:
            query = query.where(position > rows[-1].position)
        page = list(session.exec(query.order_by(position).limit(PAGE)).all())
        rows += page
        if len(page) < PAGE:
            return rows


def _origin(
    session: Session, cid: str, events: list[ConversationEvent], *, fallback: datetime
) -> datetime:
    """The time of the conversation's first event (its creation time when it has none)."""
    first = list_events_by_arrival(session, conversation_id=cid, limit=1)
    times = [_time(row) for row in first] + [_time(row) for row in events]
    return min(times, default=fallback)


def _time(row: ConversationEvent) -> datetime:
    return row.sent_at or row.received_at


_Row = TypeVar("_Row")


# ---- paging through the store ----------------------------------------------------------------


def _paged(fetch: Callable[[Any], Sequence[_Row]], cursor: Callable[[_Row], Any]) -> Iterator[_Row]:
    """Every row a keyset-paged query returns, one page of `PAGE` at a time."""
    after: Any = None
    while True:
        page = fetch(after)
        yield from page
        if len(page) < PAGE:
            return
        after = cursor(page[-1])


def _seq_events(session: Session, cid: str) -> Iterator[ConversationEvent]:
    return _paged(
        lambda after: list_events(session, conversation_id=cid, after_seq=after, limit=PAGE),
        lambda event: event.seq,
    )


def _arrival_events(session: Session, cid: str) -> Iterator[ConversationEvent]:
    return _paged(
        lambda after: list_events_by_arrival(
            session, conversation_id=cid, after_id=after, limit=PAGE
        ),
        lambda event: event.id,
    )


def _deliveries(session: Session, cid: str) -> Iterator[WebhookDelivery]:
    return _paged(
        lambda after: list_webhook_deliveries(
            session, conversation_id=cid, after_id=after, limit=PAGE
        ),
        lambda delivery: delivery.id,
    )


# ---- raw records -----------------------------------------------------------------------------


def _event_record(row: ConversationEvent) -> RawRecord:
    return RawRecord(
        kind="event",
        id=row.id or 0,
        source=row.source,
        event_type=row.event_type,
        seq=row.seq,
        turn_idx=row.turn_idx,
        inference_id=row.inference_id,
        role=row.role,
        sent_at=row.sent_at,
        received_at=row.received_at,
        message=_decoded(row.raw),
    )


def _webhook_record(row: WebhookDelivery) -> RawRecord:
    return RawRecord(
        kind="webhook",
        id=row.id or 0,
        source="webhook",
        event_type=row.event_type,
        received_at=row.received_at,
        message=_decoded(row.payload),
    )


def _decoded(text: str) -> Any:
    """Stored JSON as data; text that is somehow not JSON is kept as a string."""
    try:
        return json.loads(text)
    except ValueError:
        return text
