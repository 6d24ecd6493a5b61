"""A reloaded room rebuilds its recent updates from what the recorder stored."""

from __future__ import annotations

import json

from sqlalchemy import Engine

from cvi_app.live.history import updates_from_rows
from cvi_app.live.recorder import StoreRecorder
from cvi_app.live.updates import EventReceived, InteractionSent
from cvi_app.protocol import parse_event, respond, split_echo_text
from cvi_app.store import NewEvent, insert_events, list_events_by_arrival, session_scope
from cvi_app.store.writer import EventWriter
from tests.live.conftest import add_conversation

CID = "c-history"


def utterance(seq: int, speech: str) -> dict:
    return {
        "message_type": "conversation",
        "event_type": "conversation.utterance",
        "conversation_id": CID,
        "seq": seq,
        "properties": {"role": "replica", "speech": speech},
    }


async def test_stored_events_and_sends_read_back_as_the_updates_they_were(engine: Engine) -> None:
    add_conversation(engine, CID)
    async with EventWriter(engine, max_delay=0.01) as writer:
        recorder = StoreRecorder(CID, engine=engine, writer=writer)
        recorder.record_event(parse_event(utterance(1, "Hi, how can I help?")), source="room")
        recorder.record_interaction(respond(CID, "Tell me a story"))
        for chunk in split_echo_text(CID, "word " * 1200):
            recorder.record_interaction(chunk)
        recorder.record_event(parse_event(utterance(2, "Once upon a time")), source="room")
        await recorder.flush()
    with session_scope(engine) as s:
        rows = list_events_by_arrival(s, conversation_id=CID, limit=100)

    updates = updates_from_rows(rows)

    assert len(updates) == len(rows)
    first, sent, *echoes, last = updates
    assert isinstance(first, EventReceived) and first.event.seq == 1
    assert isinstance(sent, InteractionSent)
    assert sent.interaction.event_type == "conversation.respond"
    assert all(isinstance(u, InteractionSent) for u in echoes) and len(echoes) > 1
    assert isinstance(last, EventReceived)
    assert last.event.properties.speech == "Once upon a time"  # type: ignore[union-attr]
    assert first.at == rows[0].received_at


async def test_a_stored_row_that_no_longer_reads_is_skipped(engine: Engine) -> None:
    add_conversation(engine, CID)
    broken = [
        NewEvent(conversation_id=CID, event_type="conversation.utterance", source="room", raw="{"),
        NewEvent(conversation_id=CID, event_type="conversation.respond", source="app", raw="[1]"),
        NewEvent(
            conversation_id=CID,
            event_type="conversation.respond",
            source="app",
            raw='{"event_type": "conversation.teleport", "conversation_id": "c-history"}',
        ),
    ]
    good = NewEvent(
        conversation_id=CID,
        event_type="conversation.utterance",
        source="room",
        raw=json.dumps(utterance(3, "still here")),
        seq=3,
    )
    with session_scope(engine) as s:
        insert_events(s, events=[*broken, good])
    with session_scope(engine) as s:
        rows = list_events_by_arrival(s, conversation_id=CID, limit=100)

    updates = updates_from_rows(rows)

    assert [type(u) for u in updates] == [EventReceived]
    assert updates[0].event.seq == 3  # type: ignore[union-attr]


async def test_rows_keep_their_update_ids_and_a_restore_without_a_session_reads_the_store(
    engine: Engine, app_database: str
) -> None:
    from cvi_app.live.bus import EventBus
    from cvi_app.live.history import restore
    from cvi_app.store.db import get_engine

    store = get_engine()
    add_conversation(store, CID)
    async with EventWriter(store, max_delay=0.01) as writer:
        recorder = StoreRecorder(CID, engine=store, writer=writer)
        recorder.record_event(parse_event(utterance(1, "one")), source="room", update_id=7)
        recorder.record_interaction(respond(CID, "two"), update_id=8)
        await recorder.flush()
        assert await recorder.last_update_id() == 8

    restored = await restore(EventBus(), None, CID)
    restored.subscription.close()

    assert [u.update_id for u in restored.updates] == [7, 8]
    assert restored.last_update_id == 8
    assert not restored.is_new(restored.updates[0])
