"""Webhook payloads: each documented shape is typed, unknown ones kept, bad ones refused."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given

from cvi_app.protocol import (
    GenericWebhook,
    PalJoinedWebhook,
    PerceptionAnalysisWebhook,
    ProtocolError,
    RecordingReadyWebhook,
    ReplicaJoinedWebhook,
    ShutdownWebhook,
    TranscriptionReadyWebhook,
    parse_webhook,
)

from .strategies import FAST, json_objects, json_values


def _webhook(event_type: str, properties: Any, message_type: str = "application") -> dict:
    return {
        "conversation_id": "c0a1b2c3d4",
        "event_type": event_type,
        "message_type": message_type,
        "timestamp": "2026-11-24T21:02:03.123Z",
        "webhook_url": "https://example.com/webhooks/tavus/secret",
        "properties": properties,
    }


def test_replica_and_pal_joined_are_typed() -> None:
    replica = parse_webhook(_webhook("system.replica_joined", {"replica_id": "r79"}, "system"))
    assert isinstance(replica, ReplicaJoinedWebhook)
    assert replica.properties.replica_id == "r79"
    pal = parse_webhook(_webhook("system.pal_joined", {"replica_id": "r79"}, "system"))
    assert isinstance(pal, PalJoinedWebhook)


@pytest.mark.parametrize("key", ["shutdown_reason", "reason"])
def test_shutdown_reason_is_read_from_either_key(key: str) -> None:
    webhook = parse_webhook(
        _webhook("system.shutdown", {key: "participant_left_timeout reached"}, "system")
    )
    assert isinstance(webhook, ShutdownWebhook)
    assert webhook.reason == "participant_left_timeout reached"


def test_null_properties_read_as_none_given() -> None:
    webhook = parse_webhook(_webhook("system.shutdown", None, "system"))
    assert isinstance(webhook, ShutdownWebhook)
    assert webhook == parse_webhook(
        {k: v for k, v in _webhook("system.shutdown", {}, "system").items() if k != "properties"}
    )


def test_timestamp_is_parsed_from_iso_text_or_taken_as_datetime() -> None:
    webhook = parse_webhook(_webhook("system.shutdown", {}, "system"))
    assert webhook.timestamp == datetime(2026, 11, 24, 21, 2, 3, 123000, tzinfo=UTC)
    built = ShutdownWebhook(conversation_id="c1", timestamp=datetime(2026, 1, 1, tzinfo=UTC))
    assert built.to_message()["timestamp"].startswith("2026-01-01T00:00:00")
    assert parse_webhook(built.to_message()) == built
    with pytest.raises(ProtocolError, match="^timestamp"):
        parse_webhook({**_webhook("system.shutdown", {}, "system"), "timestamp": "yesterday"})


def test_transcription_ready_holds_old_and_new_entries() -> None:
    transcript = [
        {"role": "system", "content": "You are a helpful assistant."},
        {"role": "user", "content": "Hi"},
        {
            "role": "assistant",
            "content": "Hello!",
            "timestamp": 1764018123.5,
            "seconds_from_start": 2.5,
            "duration": 1.2,
            "inference_id": "inf-1",
        },
        {"role": "tool", "content": '{"temp_c": 18}'},
    ]
    webhook = parse_webhook(
        json.dumps(_webhook("application.transcription_ready", {"transcript": transcript}))
    )
    assert isinstance(webhook, TranscriptionReadyWebhook)
    entries = webhook.properties.transcript
    assert [entry.role for entry in entries] == ["system", "user", "assistant", "tool"]
    assert entries[2].seconds_from_start == 2.5
    assert entries[2].inference_id == "inf-1"
    assert entries[0].timestamp is None


@pytest.mark.parametrize(
    ("transcript", "field"),
    [
        ([{"role": "replica", "content": "x"}], "properties.transcript.0.role"),
        ([{"content": "x"}], "properties.transcript.0.role"),
        ([{"role": "user", "content": 5}], "properties.transcript.0.content"),
        ("Hi there", "properties.transcript"),
    ],
)
def test_malformed_transcripts_are_refused(transcript: Any, field: str) -> None:
    with pytest.raises(ProtocolError) as info:
        parse_webhook(_webhook("application.transcription_ready", {"transcript": transcript}))
    assert info.value.field == field


@pytest.mark.parametrize(
    ("properties", "location"),
    [
        (
            {"bucket_name": "tavus-recordings", "s3_key": "c0a1/rec.mp4", "duration": 95},
            "s3://tavus-recordings/c0a1/rec.mp4",
        ),
        ({"storage_provider": "gcs", "storage_uri": "gs://b/rec.mp4"}, "gs://b/rec.mp4"),
    ],
)
def test_recording_ready_accepts_either_shape(properties: dict, location: str) -> None:
    webhook = parse_webhook(_webhook("application.recording_ready", properties))
    assert isinstance(webhook, RecordingReadyWebhook)
    assert webhook.properties.location == location


def test_recording_ready_without_a_location_is_refused() -> None:
    with pytest.raises(ProtocolError, match="bucket_name and s3_key, or storage_uri"):
        parse_webhook(_webhook("application.recording_ready", {"bucket_name": "b"}))


def test_perception_analysis_carries_the_analysis() -> None:
    webhook = parse_webhook(_webhook("application.perception_analysis", {"analysis": "Calm."}))
    assert isinstance(webhook, PerceptionAnalysisWebhook)
    assert webhook.properties.analysis == "Calm."


def test_unknown_webhook_is_kept_generic() -> None:
    raw = _webhook("application.summary_ready", {"summary": "Short call."})
    webhook = parse_webhook(raw)
    assert type(webhook) is GenericWebhook
    assert webhook.properties == {"summary": "Short call."}
    assert webhook.to_message()["properties"] == raw["properties"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"conversation_id": None}, "conversation_id"),
        ({"conversation_id": ""}, "conversation_id"),
        ({"message_type": "conversation"}, "message_type"),
        ({"event_type": 7}, "event_type"),
        ({"webhook_url": 7}, "webhook_url"),
    ],
)
def test_envelope_fields_are_checked(change: dict, field: str) -> None:
    raw = {**_webhook("system.shutdown", {}, "system"), **change}
    raw = {key: value for key, value in raw.items() if value is not None}
    with pytest.raises(ProtocolError) as info:
        parse_webhook(raw)
    assert info.value.field == field


def test_body_that_is_not_json_is_refused() -> None:
    with pytest.raises(ProtocolError, match="not valid JSON"):
        parse_webhook(b"conversation_id=c1")


@FAST
@given(json_values)
def test_arbitrary_json_never_crashes_parse_webhook(value: Any) -> None:
    try:
        parse_webhook(value)
    except ProtocolError:
        pass


@FAST
@given(json_objects)
def test_arbitrary_properties_never_crash_known_webhooks(properties: dict) -> None:
    for event_type in ("application.transcription_ready", "application.recording_ready"):
        try:
            parse_webhook(_webhook(event_type, properties))
        except ProtocolError:
            pass
