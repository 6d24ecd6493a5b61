"""Transcripts: the live one from utterances, the official one from Tavus, both paged."""

from __future__ import annotations

import threading

from sqlalchemy import Engine
from sqlmodel import Session

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


def _official(engine: Engine) -> list[tuple[str, str]]:
    with session_scope(engine) as session:
        return [
            (line.role, line.text)
            for line in list_official_transcript(session, conversation_id="c-test", limit=1000)
        ]


def _lines(*texts: str) -> list[TranscriptLineCreate]:
    return [
        TranscriptLineCreate(role="user" if i % 2 else "assistant", content=text)
        for i, text in enumerate(texts)
    ]


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
        # Saving the same transcript again stores it once, not twice.
        assert save_official_transcript(session, conversation_id="c-test", lines=lines) == 4
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


def test_a_later_transcript_replaces_the_stored_one_whole(engine: Engine) -> None:
    # A forged short transcript, then the real one: only the real one is left, line for line.
    add_conversation(engine)
    forged = _lines("Forged A", "Forged B")
    real = _lines("Hello there!", "Hi, what plans?", "We have three.", "Thanks!")
    with session_scope(engine) as session:
        save_official_transcript(session, conversation_id="c-test", lines=forged)
    with session_scope(engine) as session:
        save_official_transcript(session, conversation_id="c-test", lines=real)
    assert _official(engine) == [(line.role, line.content) for line in real]


def test_a_shorter_later_transcript_leaves_nothing_of_the_longer_one(engine: Engine) -> None:
    add_conversation(engine)
    with session_scope(engine) as session:
        save_official_transcript(
            session, conversation_id="c-test", lines=_lines("one", "two", "three")
        )
    with session_scope(engine) as session:
        save_official_transcript(session, conversation_id="c-test", lines=_lines("only"))
    assert _official(engine) == [("assistant", "only")]


def test_an_empty_transcript_replaces_the_stored_one(engine: Engine) -> None:
    add_conversation(engine)
    with session_scope(engine) as session:
        save_official_transcript(session, conversation_id="c-test", lines=_lines("one", "two"))
    with session_scope(engine) as session:
        assert save_official_transcript(session, conversation_id="c-test", lines=[]) == 0
    assert _official(engine) == []


def test_two_transcripts_saved_at_once_leave_one_of_them_whole(engine: Engine) -> None:
    # The first save holds its transaction open while the second one starts: the second waits
    # for it and then replaces it, instead of failing or mixing the two.
    add_conversation(engine)
    with session_scope(engine) as session:
        save_official_transcript(session, conversation_id="c-test", lines=_lines("old", "old"))
    first = _lines("first 0", "first 1", "first 2")
    second = _lines("second 0", "second 1")
    written = threading.Event()
    errors: list[BaseException] = []

    def save_first() -> None:
        try:
            with Session(engine) as session:
                save_official_transcript(session, conversation_id="c-test", lines=first)
                written.set()
                threading.Event().wait(0.5)  # keep the transaction open
                session.commit()
        except BaseException as exc:
            errors.append(exc)
            written.set()

    def save_second() -> None:
        try:
            with session_scope(engine) as session:
                save_official_transcript(session, conversation_id="c-test", lines=second)
        except BaseException as exc:
            errors.append(exc)

    one = threading.Thread(target=save_first)
    one.start()
    written.wait(10)
    two = threading.Thread(target=save_second)
    two.start()
    one.join(30)
    two.join(30)
    assert errors == []
    assert _official(engine) == [(line.role, line.content) for line in second]
