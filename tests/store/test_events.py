"""Events are stored once however often they arrive, and read back in order a page at a time."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from cvi_app.store import (
    NewEvent,
    count_events,
    insert_events,
    list_events,
    list_events_by_arrival,
    session_scope,
)
from tests.store.helpers import add_conversation, utterance


def _event(raw: dict, *, source: str = "room", seq: int | None = None) -> NewEvent:
    return NewEvent.model_validate(
        {
            "conversation_id": "c-test",
            "event_type": raw["event_type"],
            "source": source,
            "raw": json.dumps(raw),
            "seq": seq,
        }
    )


def test_same_seq_delivered_twice_is_stored_once(engine: Engine) -> None:
    add_conversation(engine)
    with session_scope(engine) as session:
        assert insert_events(session, events=[utterance(1), utterance(2)]) == 2
    with session_scope(engine) as session:
        assert insert_events(session, events=[utterance(2), utterance(3), utterance(3)]) == 1
        assert count_events(session, conversation_id="c-test") == 3


def test_events_without_seq_collapse_when_their_json_is_the_same(engine: Engine) -> None:
    add_conversation(engine)
    raw = {"event_type": "system.replica_joined", "conversation_id": "c-test", "properties": {}}
    reformatted = NewEvent(
        conversation_id="c-test",
        event_type="system.replica_joined",
        source="room",
        raw=json.dumps(raw, indent=2),
    )
    with session_scope(engine) as session:
        insert_events(session, events=[_event(raw)])
        assert insert_events(session, events=[reformatted]) == 0
        different = {**raw, "properties": {"replica_id": "r2"}}
        assert insert_events(session, events=[_event(different)]) == 1


def test_identical_messages_the_app_sends_twice_are_both_kept(engine: Engine) -> None:
    add_conversation(engine)
    interrupt = {"event_type": "conversation.interrupt", "conversation_id": "c-test"}
    with session_scope(engine) as session:
        insert_events(session, events=[_event(interrupt, source="app")])
        insert_events(session, events=[_event(interrupt, source="app")])
        assert count_events(session, conversation_id="c-test") == 2


def test_a_retried_write_of_the_same_app_message_is_stored_once(engine: Engine) -> None:
    add_conversation(engine)
    sent = _event({"event_type": "conversation.interrupt"}, source="app")
    with session_scope(engine) as session:
        insert_events(session, events=[sent])
        assert insert_events(session, events=[sent]) == 0


def test_events_page_forwards_and_backwards_in_seq_order(engine: Engine) -> None:
    add_conversation(engine)
    with session_scope(engine) as session:
        insert_events(session, events=[utterance(seq) for seq in (5, 1, 4, 2, 3, 7, 6)])

    with session_scope(engine) as session:
        first = list_events(session, conversation_id="c-test", limit=3)
        second = list_events(session, conversation_id="c-test", after_seq=first[-1].seq, limit=3)
        last = list_events(session, conversation_id="c-test", after_seq=second[-1].seq, limit=3)
        older = list_events(session, conversation_id="c-test", before_seq=6, limit=2)

    assert [e.seq for e in first] == [1, 2, 3]
    assert [e.seq for e in second] == [4, 5, 6]
    assert [e.seq for e in last] == [7]
    assert [e.seq for e in older] == [4, 5]


def test_arrival_order_includes_events_without_seq(engine: Engine) -> None:
    add_conversation(engine)
    with session_scope(engine) as session:
        insert_events(session, events=[utterance(2)])
        insert_events(
            session, events=[_event({"event_type": "conversation.interrupt"}, source="app")]
        )
        insert_events(session, events=[utterance(1)])

    with session_scope(engine) as session:
        everything = list_events_by_arrival(session, conversation_id="c-test")
        newest_two = list_events_by_arrival(
            session, conversation_id="c-test", before_id=everything[-1].id + 1, limit=2
        )
        by_seq = list_events(session, conversation_id="c-test")

    assert [(e.event_type, e.seq) for e in everything] == [
        ("conversation.utterance", 2),
        ("conversation.interrupt", None),
        ("conversation.utterance", 1),
    ]
    assert [e.id for e in newest_two] == [everything[1].id, everything[2].id]
    assert [e.seq for e in by_seq] == [1, 2]


def test_conversations_do_not_see_each_others_events(engine: Engine) -> None:
    add_conversation(engine, "c-a")
    add_conversation(engine, "c-b")
    with session_scope(engine) as session:
        insert_events(
            session,
            events=[utterance(1, conversation_id="c-a"), utterance(1, conversation_id="c-b")],
        )
        assert [e.conversation_id for e in list_events(session, conversation_id="c-a")] == ["c-a"]


def test_events_of_an_unknown_conversation_are_refused(engine: Engine) -> None:
    with pytest.raises(IntegrityError), session_scope(engine) as session:
        insert_events(session, events=[utterance(1, conversation_id="c-nobody")])


@pytest.mark.parametrize("limit", [0, 1001])
def test_page_sizes_out_of_range_are_refused(engine: Engine, limit: int) -> None:
    with pytest.raises(ValueError, match="limit"), session_scope(engine) as session:
        list_events(session, conversation_id="c-test", limit=limit)
