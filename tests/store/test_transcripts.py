"""Transcripts: the live one from utterances, the official one from Tavus, both paged."""

from __future__ import annotations

from sqlalchemy import Engine

from cvi_app.store import (
    TranscriptLineCreate,
    insert_events,
    list_official_transcript,
    list_utterances,
    save_official_transcript,
    session_scope,
)
from tests.store.helpers import add_conversation, utterance


def test_live_transcript_is_the_utterances_in_seq_order(engine: Engine) -> None:
    add_conversation(engine)
    streaming = utterance(3).model_copy(
        update={"event_type": "conversation.utterance.streaming", "dedupe_key": "seq:3"}
    )
    with session_scope(engine) as session:
        insert_events(
            session, events=[utterance(4, role="replica"), streaming, utterance(1), utterance(2)]
        )
    with session_scope(engine) as session:
        first = list_utterances(session, conversation_id="c-test", limit=2)
        rest = list_utterances(session, conversation_id="c-test", after_seq=first[-1].position)
        before = list_utterances(session, conversation_id="c-test", before_seq=4, limit=1)
    assert [(line.position, line.role, line.text) for line in first + rest] == [
        (1, "user", "line 1"),
        (2, "user", "line 2"),
        (4, "replica", "line 4"),
    ]
    assert [line.position for line in before] == [2]


def test_official_transcript_is_stored_once_and_read_in_order(engine: Engine) -> None:
    add_conversation(engine)
    lines = [
        TranscriptLineCreate(role="system", content="You are helpful."),
        TranscriptLineCreate(role="user", content="Hi", seconds_from_start=1.5),
        TranscriptLineCreate(role="assistant", content=None),
        TranscriptLineCreate(role="assistant", content="Hello!"),
    ]
    with session_scope(engine) as session:
        assert save_official_transcript(session, conversation_id="c-test", lines=lines) == 4
    with session_scope(engine) as session:
        assert save_official_transcript(session, conversation_id="c-test", lines=lines) == 0
        first = list_official_transcript(session, conversation_id="c-test", limit=3)
        rest = list_official_transcript(
            session, conversation_id="c-test", after_position=first[-1].position
        )
    assert [(line.role, line.text) for line in first + rest] == [
        ("system", "You are helpful."),
        ("user", "Hi"),
        ("assistant", ""),
        ("assistant", "Hello!"),
    ]
