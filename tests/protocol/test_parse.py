"""Untrusted input never crashes parsing: a typed model comes out, or a ProtocolError."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cvi_app.protocol import (
    EVENT_TYPES,
    INTERACTION_TYPES,
    Event,
    Interaction,
    ProtocolError,
    UtteranceEvent,
    parse_event,
    parse_webhook,
    validate_interaction,
)

from .conftest import load_fixture_cases
from .strategies import (
    FAST,
    THOROUGH,
    json_objects,
    json_values,
    mutated,
    valid_events,
    valid_interactions,
)

FIXTURE_EVENTS = [raw for expect, raw in load_fixture_cases("inbound.jsonl") if expect == "ok"]
FIXTURE_INTERACTIONS = [
    raw for expect, raw in load_fixture_cases("outbound.jsonl") if expect == "ok"
]


def _parse_or_protocol_error(raw: Any) -> Event | None:
    try:
        event = parse_event(raw)
    except ProtocolError:
        return None
    assert isinstance(event, Event)
    json.dumps(event.to_message(), allow_nan=False)  # what comes out is always sendable JSON
    return event


def _validate_or_protocol_error(raw: Any) -> Interaction | None:
    try:
        interaction = validate_interaction(raw)
    except ProtocolError:
        return None
    assert isinstance(interaction, Interaction)
    interaction.to_message()
    return interaction


def test_json_text_bytes_and_dict_parse_alike() -> None:
    raw = {"event_type": "conversation.utterance", "properties": {"role": "user", "speech": "Hé"}}
    text = json.dumps(raw, ensure_ascii=False)
    events = [
        parse_event(raw),
        parse_event(text),
        parse_event(text.encode()),
        parse_event(bytearray(text.encode())),
    ]
    assert all(isinstance(event, UtteranceEvent) for event in events)
    assert len({event.model_dump_json() for event in events}) == 1


def test_parsed_event_shares_nothing_with_the_callers_dict() -> None:
    raw = {"event_type": "conversation.future", "properties": {"items": [1]}}
    event = parse_event(raw)
    raw["properties"]["items"].append(2)
    assert event.properties == {"items": [1]}


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"\xff\xfe{}", "not UTF-8 text"),
        ("", "not valid JSON"),
        ('{"event_type": "x", "seq": NaN}', "not valid JSON"),
        ('{"event_type": "x", "timestamp": Infinity}', "not valid JSON"),
        ("null", "expected a JSON object, got null"),
        ('"text"', "expected a JSON object, got a string"),
        ("12", "expected a JSON object, got a number"),
        (12, "expected a JSON object, got int"),
        (None, "expected a JSON object, got NoneType"),
        ("[" * 100_000 + "]" * 100_000, "JSON nests too deeply"),
    ],
)
def test_input_that_is_not_a_json_object_is_rejected_with_a_reason(raw: Any, reason: str) -> None:
    with pytest.raises(ProtocolError) as info:
        parse_event(raw)
    assert info.value.field is None
    assert info.value.reason.startswith(reason)


def test_parsed_event_shares_nothing_nested_with_the_callers_dict() -> None:
    raw: dict[str, Any] = {
        "event_type": "conversation.utterance",
        "properties": {"role": "user", "speech": "hi", "extra": {"seen": [1]}},
        "debug": {"path": ["a"]},
    }
    event = parse_event(raw)
    raw["properties"]["extra"]["seen"].append(2)
    raw["debug"]["path"].append("b")
    assert event.to_message()["properties"]["extra"] == {"seen": [1]}
    assert event.to_message()["debug"] == {"path": ["a"]}


def test_dict_holding_non_json_values_is_rejected() -> None:
    circular: dict[str, Any] = {"event_type": "conversation.future"}
    circular["self"] = circular
    for raw in (
        {"event_type": "conversation.future", "when": object()},
        {"event_type": "conversation.future", "n": float("nan")},
        {"event_type": "conversation.future", "n": float("inf")},
        {"event_type": "conversation.future", "pair": (1, 2)},
        {"event_type": "conversation.future", "raw": b"bytes"},
        {"event_type": "conversation.future", "nested": {1: "not a string key"}},
        circular,
    ):
        with pytest.raises(ProtocolError) as info:
            parse_event(raw)
        assert info.value.field is None
        assert info.value.reason.startswith(("not valid JSON", "JSON nests too deeply"))


def test_webhooks_and_interactions_take_the_same_checks_on_a_dict() -> None:
    for check in (parse_webhook, validate_interaction):
        with pytest.raises(ProtocolError, match="not valid JSON"):
            check({"event_type": "conversation.respond", "n": float("nan")})
        with pytest.raises(ProtocolError) as info:
            check({"event_type": 7})
        assert info.value.field == "event_type"


def test_deeply_nested_unknown_properties_are_rejected_not_crashing() -> None:
    nested: Any = "leaf"
    for _ in range(5000):
        nested = [nested]
    with pytest.raises(ProtocolError, match="too deeply"):
        parse_event({"event_type": "conversation.future", "properties": {"deep": nested}})


def test_deeply_nested_tool_call_arguments_are_rejected() -> None:
    arguments = '{"a":' * 100_000 + "1" + "}" * 100_000
    with pytest.raises(ProtocolError, match="properties.arguments"):
        parse_event(
            {
                "event_type": "conversation.tool_call",
                "properties": {"name": "t", "arguments": arguments},
            }
        )


@pytest.mark.parametrize("event_type", [None, 3, ["conversation.utterance"], {"a": 1}])
def test_event_type_must_be_a_string(event_type: Any) -> None:
    raw = {"properties": {}} if event_type is None else {"event_type": event_type}
    with pytest.raises(ProtocolError) as info:
        parse_event(raw)
    assert info.value.field == "event_type"


def test_there_is_no_size_limit_on_what_is_received() -> None:
    speech = "word " * 20_000
    event = parse_event(
        {
            "event_type": "conversation.utterance",
            "properties": {"role": "replica", "speech": speech},
        }
    )
    assert isinstance(event, UtteranceEvent)
    assert event.properties.speech == speech


def test_huge_timestamp_is_rejected_not_crashing() -> None:
    with pytest.raises(ProtocolError, match="^timestamp"):
        parse_event('{"event_type": "conversation.future", "timestamp": 1' + "0" * 400 + "}")


@FAST
@given(json_values)
def test_arbitrary_json_never_crashes_parse_event(value: Any) -> None:
    _parse_or_protocol_error(value)
    _parse_or_protocol_error(json.dumps(value))


@FAST
@given(json_values)
def test_arbitrary_json_never_crashes_validate_interaction(value: Any) -> None:
    _validate_or_protocol_error(value)


@FAST
@given(st.text(max_size=200) | st.binary(max_size=200))
def test_arbitrary_text_and_bytes_never_crash_parse_event(raw: str | bytes) -> None:
    _parse_or_protocol_error(raw)


@THOROUGH
@given(
    st.sampled_from(sorted(EVENT_TYPES) + ["conversation.future"]),
    json_objects,
    json_objects,
)
def test_known_event_types_with_arbitrary_fields_never_crash(
    event_type: str, envelope: dict, properties: dict
) -> None:
    _parse_or_protocol_error({**envelope, "event_type": event_type, "properties": properties})


@THOROUGH
@given(mutated(valid_events() | st.sampled_from(FIXTURE_EVENTS)))
def test_mutated_events_never_crash_parse_event(raw: dict) -> None:
    event = _parse_or_protocol_error(raw)
    if event is not None:
        assert parse_event(event.to_message()).to_message() == event.to_message()


@THOROUGH
@given(
    st.sampled_from(sorted(INTERACTION_TYPES) + ["conversation.append_context"]),
    json_objects,
    json_objects,
)
def test_interaction_types_with_arbitrary_fields_never_crash(
    event_type: str, envelope: dict, properties: dict
) -> None:
    _validate_or_protocol_error(
        {**envelope, "event_type": event_type, "conversation_id": "c1", "properties": properties}
    )


@THOROUGH
@given(mutated(valid_interactions() | st.sampled_from(FIXTURE_INTERACTIONS)))
def test_mutated_interactions_never_crash_validate_interaction(raw: dict) -> None:
    interaction = _validate_or_protocol_error(raw)
    if interaction is not None:
        assert validate_interaction(interaction.to_message()) == interaction
