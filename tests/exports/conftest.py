"""Export tests: a recorded conversation in a real SQLite or PostgreSQL store."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from cvi_app.access.owner_cookie import OwnerCookies, owner_identity
from cvi_app.protocol import (
    ReplicaStartedSpeakingEvent,
    ReplicaStoppedSpeakingEvent,
    ShutdownWebhook,
    TranscriptionReadyWebhook,
    UserStoppedSpeakingEvent,
    UtteranceEvent,
    respond,
)
from cvi_app.protocol.events import ShutdownProperties, StoppedProperties, UtteranceProperties
from cvi_app.protocol.webhooks import TranscriptEntry, TranscriptionReadyProperties
from cvi_app.store import (
    ConversationCreate,
    create_conversation,
    insert_events,
    new_event_from_interaction,
    new_event_from_protocol,
    session_scope,
)
from cvi_app.webhooks.ingest import ingest_webhook, record_verified_end

COOKIES = OwnerCookies(key=b"k" * 32)
# The first browser's signed owner cookie (the same in every import of this module), and the
# identity the store keeps for it.
OWNER_TOKEN = COOKIES.mint("first-browser")
OWNER = owner_identity(OWNER_TOKEN)
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

# What was said, as a person would read it: markup characters, a cue arrow, an emoji, a
# line separator and blank lines must all survive every format.
REPLICA_GREETING = "Hello! I'm <your> replica & ready -- ask *anything*."
USER_QUESTION = "What plans do you offer? -->"
REPLICA_ANSWER = "We have two plans:\n\nBasic and [Pro] 🎉\u2028see `pricing` | #plans"


@dataclass(frozen=True)
class Recorded:
    """A stored conversation and what it holds."""

    conversation_id: str
    owner: str
    spoken: list[tuple[str, str]]
    events: int


def _at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def record_conversation(engine: Engine, conversation_id: str = "c-export") -> Recorded:
    """Store a short conversation the way the live session does: room events and a sent turn."""
    cid = conversation_id

    def utterance(seq: int, role: str, speech: str, inference_id: str, turn: int, t: float):
        event = UtteranceEvent(
            conversation_id=cid,
            seq=seq,
            turn_idx=turn,
            inference_id=inference_id,
            timestamp=_at(t).timestamp(),
            properties=UtteranceProperties(role=role, speech=speech),
        )
        return new_event_from_protocol(event, source="room", received_at=_at(t + 0.05))

    def stopped(seq: int, cls, inference_id: str | None, turn: int, t: float, duration: float):
        event = cls(
            conversation_id=cid,
            seq=seq,
            turn_idx=turn,
            inference_id=inference_id,
            timestamp=_at(t).timestamp(),
            properties=StoppedProperties(duration=duration),
        )
        return new_event_from_protocol(event, source="room", received_at=_at(t + 0.05))

    started = ReplicaStartedSpeakingEvent(
        conversation_id=cid, seq=1, turn_idx=1, inference_id="r1", timestamp=T0.timestamp()
    )
    events = [
        new_event_from_protocol(started, source="room", received_at=_at(0.05)),
        utterance(2, "replica", REPLICA_GREETING, "r1", 1, 0.0),
        stopped(3, ReplicaStoppedSpeakingEvent, "r1", 1, 2.5, 2.5),
        new_event_from_interaction(respond(cid, USER_QUESTION), sent_at=_at(4.0)),
        stopped(4, UserStoppedSpeakingEvent, None, 2, 5.0, 1.0),
        utterance(5, "user", USER_QUESTION, "u2", 2, 5.2),
        utterance(6, "replica", REPLICA_ANSWER, "r2", 2, 6.0),
        stopped(7, ReplicaStoppedSpeakingEvent, "r2", 2, 10.0, 4.0),
    ]
    with session_scope(engine) as s:
        create_conversation(
            s,
            data=ConversationCreate(
                conversation_id=cid, mode="sandbox", name="Plans & pricing", owner_session=OWNER
            ),
            created_at=T0 - timedelta(seconds=3),
        )
        insert_events(s, events=events)
    return Recorded(
        conversation_id=cid,
        owner=OWNER,
        spoken=[
            ("Replica", REPLICA_GREETING),
            ("User", USER_QUESTION),
            ("Replica", REPLICA_ANSWER),
        ],
        events=len(events),
    )


def deliver(engine: Engine, webhook, *, at: float) -> None:
    """Store a webhook as the endpoint does (a shutdown as one the API confirmed)."""
    with session_scope(engine) as s:
        ingest_webhook(
            s,
            webhook=webhook,
            payload=webhook.model_dump_json(exclude_none=True),
            received_at=_at(at),
        )
        if isinstance(webhook, ShutdownWebhook):
            record_verified_end(
                s,
                webhook=webhook,
                reason=webhook.reason,
                reported_by="webhook",
                received_at=_at(at),
            )


def end_with_official_transcript(engine: Engine, cid: str) -> None:
    """Tavus's closing webhooks: shutdown, then the official transcript with timings."""
    deliver(
        engine,
        ShutdownWebhook(
            conversation_id=cid,
            timestamp=_at(12),
            properties=ShutdownProperties(shutdown_reason="end_conversation_endpoint_hit"),
        ),
        at=12.1,
    )
    deliver(
        engine,
        TranscriptionReadyWebhook(
            conversation_id=cid,
            timestamp=_at(13),
            properties=TranscriptionReadyProperties(
                transcript=[
                    TranscriptEntry(role="system", content="You are a sales agent."),
                    TranscriptEntry(
                        role="assistant",
                        content=REPLICA_GREETING,
                        seconds_from_start=1.0,
                        duration=2.0,
                    ),
                    TranscriptEntry(
                        role="user", content=USER_QUESTION, seconds_from_start=4.5, duration=1.5
                    ),
                    TranscriptEntry(
                        role="assistant",
                        content=REPLICA_ANSWER,
                        seconds_from_start=6.25,
                        duration=3.75,
                    ),
                ]
            ),
        ),
        at=13.1,
    )


@pytest.fixture
def recorded(engine: Engine) -> Recorded:
    """A stored conversation (live transcript only)."""
    return record_conversation(engine)
