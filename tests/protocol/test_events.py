"""Inbound events: typed per event type, forward compatible, serialisable back to the wire."""

from __future__ import annotations

import json

import pytest
from hypothesis import given

from cvi_app.protocol import (
    EVENT_TYPES,
    GenericEvent,
    PalJoinedEvent,
    PerceptionToolCallEvent,
    ProtocolError,
    ReplicaStartedSpeakingEvent,
    ShutdownEvent,
    StoppedSpeakingEvent,
    ToolCallEvent,
    ToolCallProperties,
    UserStoppedSpeakingEvent,
    UtteranceEvent,
    UtteranceProperties,
    normalise_arguments,
    parse_event,
)

from .strategies import FAST, valid_events


def _tool_call(arguments: object) -> dict[str, object]:
    return {
        "event_type": "conversation.tool_call",
        "conversation_id": "c1",
        "inference_id": "inf-1",
        "properties": {"name": "get_weather", "arguments": arguments, "tool_call_id": "call_1"},
    }


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ('{"city": "Paris"}', {"city": "Paris"}),
        ({"city": "Paris"}, {"city": "Paris"}),
        ("", {}),
        ("   ", {}),
        (None, {}),
        ('{"nested": {"list": [1, 2.5, null]}}', {"nested": {"list": [1, 2.5, None]}}),
    ],
)
def test_tool_call_arguments_are_always_a_dict(arguments: object, expected: dict) -> None:
    event = parse_event(_tool_call(arguments))
    assert isinstance(event, ToolCallEvent)
    assert event.properties.arguments == expected


def test_tool_call_without_arguments_has_empty_dict() -> None:
    event = parse_event({"event_type": "conversation.tool_call", "properties": {"name": "ping"}})
    assert isinstance(event, ToolCallEvent)
    assert event.properties.arguments == {}


@pytest.mark.parametrize("arguments", ['"Paris"', "[1, 2]", "42", "{not json", "NaN", 5, ["a"]])
def test_tool_call_arguments_that_are_not_an_object_are_rejected(arguments: object) -> None:
    with pytest.raises(ProtocolError) as info:
        parse_event(_tool_call(arguments))
    assert info.value.field == "properties.arguments"


def test_perception_tool_call_arguments_are_normalised_too() -> None:
    event = parse_event(
        {
            "event_type": "conversation.perception_tool_call",
            "properties": {"name": "notice", "modality": "audio", "arguments": '{"a": 1}'},
        }
    )
    assert isinstance(event, PerceptionToolCallEvent)
    assert event.properties.arguments == {"a": 1}
    with pytest.raises(ProtocolError, match="properties.arguments"):
        parse_event(
            {
                "event_type": "conversation.perception_tool_call",
                "properties": {"name": "notice", "arguments": "[]"},
            }
        )


def test_tool_call_goes_back_on_the_wire_with_arguments_as_json_text() -> None:
    event = ToolCallEvent(
        conversation_id="c1",
        inference_id="inf-2",
        properties=ToolCallProperties(name="get_weather", arguments={"city": "Zürich"}),
    )
    message = event.to_message()
    assert message["properties"]["arguments"] == '{"city": "Zürich"}'
    assert message["event_type"] == "conversation.tool_call"
    assert "tool_call_id" not in message["properties"]  # None fields are dropped
    assert parse_event(json.dumps(message)) == event


def test_normalise_arguments_refuses_non_objects() -> None:
    assert normalise_arguments('{"a": [1]}') == {"a": [1]}
    with pytest.raises(ValueError):
        normalise_arguments("[1]")


@pytest.mark.parametrize("seq", ["three", "3", True, 2.5])
def test_seq_must_be_a_real_integer(seq: object) -> None:
    with pytest.raises(ProtocolError) as info:
        parse_event({"event_type": "conversation.user.started_speaking", "seq": seq})
    assert info.value.field == "seq"


@pytest.mark.parametrize("turn_idx", ["1", False])
def test_turn_idx_must_be_a_real_integer(turn_idx: object) -> None:
    with pytest.raises(ProtocolError, match="^turn_idx"):
        parse_event({"event_type": "conversation.user.started_speaking", "turn_idx": turn_idx})


def test_unknown_event_type_is_kept_whole_as_generic_event() -> None:
    raw = {
        "message_type": "conversation",
        "event_type": "conversation.hologram_projected",
        "conversation_id": "c1",
        "seq": 9,
        "properties": {"angle": 42, "note": None},
        "brand_new_field": [1, 2],
    }
    event = parse_event(raw)
    assert type(event) is GenericEvent
    assert event.properties == {"angle": 42, "note": None}
    assert event.model_extra == {"brand_new_field": [1, 2]}
    assert event.to_message() == raw


def test_unknown_event_type_still_type_checks_known_fields() -> None:
    with pytest.raises(ProtocolError, match="^seq"):
        parse_event({"event_type": "conversation.future", "seq": "9"})
    with pytest.raises(ProtocolError, match="^properties"):
        parse_event({"event_type": "conversation.future", "properties": "text"})


def test_unknown_fields_are_kept_but_known_fields_checked() -> None:
    event = parse_event(
        {
            "event_type": "conversation.utterance",
            "properties": {"role": "user", "speech": "hi", "emotion": "happy"},
            "region": "eu",
        }
    )
    assert isinstance(event, UtteranceEvent)
    assert event.properties.model_extra == {"emotion": "happy"}
    assert event.model_extra == {"region": "eu"}
    with pytest.raises(ProtocolError, match="^properties.role"):
        parse_event(
            {"event_type": "conversation.utterance", "properties": {"role": "bot", "speech": "hi"}}
        )


@pytest.mark.parametrize(
    "event_type",
    [
        "conversation.replica.started_speaking",
        "conversation.replica.stopped_speaking",
        "conversation.user.started_speaking",
        "conversation.user.stopped_speaking",
        "conversation.replica_interrupted",
        "system.replica_joined",
        "system.pal_joined",
        "system.shutdown",
    ],
)
def test_events_with_only_optional_properties_need_none(event_type: str) -> None:
    assert type(parse_event({"event_type": event_type})) is EVENT_TYPES[event_type]
    assert (
        type(parse_event({"event_type": event_type, "properties": None}))
        is (EVENT_TYPES[event_type])
    )


@pytest.mark.parametrize(
    "event_type",
    [
        "conversation.utterance",
        "conversation.utterance.streaming",
        "conversation.tool_call",
        "conversation.perception_tool_call",
        "conversation.perception_analysis",
        "conversation.started_speaking",
        "conversation.stopped_speaking",
    ],
)
def test_events_with_required_properties_reject_a_missing_properties(event_type: str) -> None:
    with pytest.raises(ProtocolError, match="^properties: Field required"):
        parse_event({"event_type": event_type})


def test_stopped_speaking_carries_role_duration_and_interruption() -> None:
    event = parse_event(
        {
            "event_type": "conversation.stopped_speaking",
            "properties": {"role": "pal", "duration": None, "interrupted": True},
        }
    )
    assert isinstance(event, StoppedSpeakingEvent)
    assert (event.role, event.properties.duration, event.properties.interrupted) == (
        "pal",
        None,
        True,
    )
    user = parse_event(
        {"event_type": "conversation.user.stopped_speaking", "properties": {"duration": 1}}
    )
    assert isinstance(user, UserStoppedSpeakingEvent)
    assert user.properties.duration == 1.0


def test_role_is_read_from_properties_or_implied_by_the_event_type() -> None:
    utterance = UtteranceEvent(properties=UtteranceProperties(role="pal", speech="Hi"))
    assert utterance.role == "pal"
    assert ReplicaStartedSpeakingEvent().role == "replica"
    assert PalJoinedEvent().role == "pal"
    assert ShutdownEvent().role is None
    assert parse_event({"event_type": "x.y", "properties": {"role": "user"}}).role == "user"
    assert parse_event({"event_type": "x.y", "properties": {"role": "robot"}}).role is None


@pytest.mark.parametrize(
    ("properties", "reason"),
    [
        ({"shutdown_reason": "max_call_duration reached"}, "max_call_duration reached"),
        ({"reason": "end_conversation_endpoint_hit"}, "end_conversation_endpoint_hit"),
        ({}, None),
    ],
)
def test_shutdown_reason_reads_either_key(properties: dict, reason: str | None) -> None:
    event = parse_event({"event_type": "system.shutdown", "properties": properties})
    assert isinstance(event, ShutdownEvent)
    assert event.reason == reason


def test_system_events_keep_their_message_type() -> None:
    event = parse_event({"message_type": "system", "event_type": "system.replica_joined"})
    assert event.message_type == "system"
    assert UtteranceEvent(properties=UtteranceProperties(role="user", speech="a")).message_type == (
        "conversation"
    )


def test_events_are_immutable() -> None:
    event = parse_event({"event_type": "conversation.user.started_speaking", "seq": 1})
    with pytest.raises(Exception):  # noqa: B017 - pydantic raises its own frozen error
        event.seq = 2  # type: ignore[misc]


def test_registry_maps_every_documented_event_type_to_its_model() -> None:
    assert len(EVENT_TYPES) == 15
    for event_type, model in EVENT_TYPES.items():
        assert model.model_fields["event_type"].default == event_type


@FAST
@given(valid_events())
def test_valid_event_survives_to_message_and_back(raw: dict) -> None:
    event = parse_event(raw)
    message = event.to_message()
    again = parse_event(json.dumps(message))
    assert type(again) is type(event)
    assert again.to_message() == message
