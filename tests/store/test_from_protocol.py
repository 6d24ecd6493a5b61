"""Protocol events, interactions and webhooks become store rows in one place."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine

from cvi_app.protocol import TranscriptionReadyWebhook, parse_event, parse_webhook, respond
from cvi_app.store import (
    insert_events,
    list_events_by_arrival,
    list_official_transcript,
    list_utterances,
    new_event_from_interaction,
    new_event_from_protocol,
    record_webhook_delivery,
    save_official_transcript,
    session_scope,
    transcript_lines_from_webhook,
    webhook_delivery_from_protocol,
)
from tests.store.helpers import add_conversation

ROOM = [
    '{"event_type": "conversation.utterance", "conversation_id": "c-test", "seq": 1,'
    ' "turn_idx": 1, "inference_id": "inf-1", "timestamp": 1767268800.5,'
    ' "properties": {"role": "user", "speech": "What plans do you offer?"}}',
    '{"event_type": "conversation.tool_call", "conversation_id": "c-test", "seq": 2,'
    ' "inference_id": "inf-2", "properties": {"name": "get_weather",'
    ' "arguments": "{\\"city\\": \\"Paris\\"}", "tool_call_id": "call_1"}}',
    '{"event_type": "conversation.replica.started_speaking", "seq": 3, "inference_id": "inf-1"}',
    '{"event_type": "conversation.utterance", "conversation_id": "c-test", "seq": 4,'
    ' "inference_id": "inf-1", "properties": {"role": "replica", "speech": "Three plans."}}',
]


def test_room_events_keep_their_raw_json_and_order_fields(engine: Engine) -> None:
    add_conversation(engine)
    rows = [
        new_event_from_protocol(parse_event(raw), source="room", raw=raw, conversation_id="c-test")
        for raw in ROOM
    ]
    with session_scope(engine) as session:
        assert insert_events(session, events=rows) == 4
        stored = list_events_by_arrival(session, conversation_id="c-test")
        transcript = list_utterances(session, conversation_id="c-test")

    first = stored[0]
    assert (first.seq, first.turn_idx, first.inference_id, first.role) == (1, 1, "inf-1", "user")
    assert first.sent_at == datetime(2026, 1, 1, 12, 0, 0, 500000, tzinfo=UTC)
    assert json.loads(stored[1].raw)["properties"]["tool_call_id"] == "call_1"
    assert stored[2].role == "replica"
    assert [(line.role, line.text) for line in transcript] == [
        ("user", "What plans do you offer?"),
        ("replica", "Three plans."),
    ]


def test_an_event_without_any_conversation_id_is_refused() -> None:
    event = parse_event(ROOM[2])
    with pytest.raises(ValueError, match="no conversation_id"):
        new_event_from_protocol(event, source="room")


def test_interactions_the_app_sends_are_stored_as_app_events(engine: Engine) -> None:
    add_conversation(engine)
    sent = respond("c-test", "Tell me about pricing.")
    with session_scope(engine) as session:
        insert_events(session, events=[new_event_from_interaction(sent)])
        insert_events(session, events=[new_event_from_interaction(sent)])
        stored = list_events_by_arrival(session, conversation_id="c-test")
    assert [(e.source, e.event_type, e.text) for e in stored] == [
        ("app", "conversation.respond", "Tell me about pricing."),
    ] * 2
    assert json.loads(stored[0].raw) == sent.to_message()


def test_transcription_ready_webhook_becomes_the_official_transcript(engine: Engine) -> None:
    add_conversation(engine)
    body = json.dumps(
        {
            "conversation_id": "c-test",
            "event_type": "application.transcription_ready",
            "message_type": "application",
            "timestamp": "2026-01-01T12:10:00Z",
            "properties": {
                "transcript": [
                    {"role": "system", "content": "Be brief."},
                    {"role": "user", "content": "Hi", "timestamp": "2026-01-01T12:00:01Z"},
                    {"role": "assistant", "content": "Hello!", "timestamp": 1767268802.0},
                ]
            },
        }
    )
    webhook = parse_webhook(body)
    assert isinstance(webhook, TranscriptionReadyWebhook)
    with session_scope(engine) as session:
        assert record_webhook_delivery(
            session, delivery=webhook_delivery_from_protocol(webhook, payload=body)
        )
        save_official_transcript(
            session, conversation_id="c-test", lines=transcript_lines_from_webhook(webhook)
        )
        lines = list_official_transcript(session, conversation_id="c-test")
    assert [(line.role, line.text) for line in lines] == [
        ("system", "Be brief."),
        ("user", "Hi"),
        ("assistant", "Hello!"),
    ]
    assert lines[1].at == datetime(2026, 1, 1, 12, 0, 1, tzinfo=UTC)
    assert lines[2].at == datetime(2026, 1, 1, 12, 0, 2, tzinfo=UTC)
