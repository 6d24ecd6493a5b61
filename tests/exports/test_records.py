"""Reading what an export holds: the transcript, with timings, and every raw record."""

from __future__ import annotations

from sqlalchemy import Engine

from cvi_app.exports import load_raw_records, load_transcript
from cvi_app.store import Conversation, get_conversation, session_scope
from tests.exports.conftest import T0, Recorded, end_with_official_transcript


def _conversation(engine: Engine, cid: str) -> Conversation:
    with session_scope(engine) as s:
        row = get_conversation(s, conversation_id=cid)
    assert row is not None
    return row


def test_the_live_transcript_is_timed_from_the_first_event(
    engine: Engine, recorded: Recorded
) -> None:
    with session_scope(engine) as s:
        doc = load_transcript(s, conversation=_conversation(engine, recorded.conversation_id))
    assert doc.source == "live"
    assert doc.origin == T0
    assert [(line.speaker, line.text) for line in doc.lines] == recorded.spoken
    # Replica lines start when reported and last as long as `stopped_speaking` said; the
    # user's line was reported when they stopped, 1 s after they started.
    assert [(line.start, line.end) for line in doc.lines] == [(0.0, 2.5), (4.2, 5.2), (6.0, 10.0)]


def test_the_official_transcript_wins_once_stored_with_its_own_timings(
    engine: Engine, recorded: Recorded
) -> None:
    end_with_official_transcript(engine, recorded.conversation_id)
    with session_scope(engine) as s:
        doc = load_transcript(s, conversation=_conversation(engine, recorded.conversation_id))
    assert doc.source == "official"
    assert doc.conversation.status == "ended"
    assert doc.conversation.shutdown_reason == "end_conversation_endpoint_hit"
    system, *spoken = doc.lines
    assert (system.role, system.start, system.spoken) == ("system", None, False)
    assert [(line.speaker, line.text) for line in spoken] == recorded.spoken
    assert [(line.start, line.end) for line in spoken] == [(1.0, 3.0), (4.5, 6.0), (6.25, 10.0)]


def test_raw_records_hold_every_event_and_webhook_in_arrival_order(
    engine: Engine, recorded: Recorded
) -> None:
    end_with_official_transcript(engine, recorded.conversation_id)
    with session_scope(engine) as s:
        records = load_raw_records(s, conversation_id=recorded.conversation_id)
    assert len(records) == recorded.events + 2
    assert [r.received_at for r in records] == sorted(r.received_at for r in records)
    assert [r.event_type for r in records[-2:]] == [
        "system.shutdown",
        "application.transcription_ready",
    ]
    assert {r.source for r in records} == {"room", "app", "webhook"}
    sent = next(r for r in records if r.source == "app")
    assert sent.message["event_type"] == "conversation.respond"
