"""Errors name the offending field and a reason, and are the only exception raised."""

from __future__ import annotations

import pytest

from cvi_app.protocol import ProtocolError, parse_event, respond, validate_interaction


def test_error_names_the_nested_field_and_the_reason() -> None:
    with pytest.raises(ProtocolError) as info:
        parse_event(
            {"event_type": "conversation.utterance", "properties": {"role": "user", "speech": 42}}
        )
    assert info.value.field == "properties.speech"
    assert info.value.reason == "Input should be a valid string"
    assert str(info.value) == "properties.speech: Input should be a valid string"


def test_error_for_a_missing_required_field_names_it() -> None:
    with pytest.raises(ProtocolError, match=r"^properties\.role: Field required"):
        parse_event({"event_type": "conversation.utterance", "properties": {"speech": "hi"}})


def test_error_about_the_whole_message_has_no_field() -> None:
    with pytest.raises(ProtocolError) as info:
        parse_event("[1, 2]")
    assert info.value.field is None
    assert str(info.value) == info.value.reason == "expected a JSON object, got an array"


def test_error_counts_other_problems() -> None:
    with pytest.raises(ProtocolError) as info:
        parse_event(
            {"event_type": "conversation.utterance", "seq": "x", "properties": {"speech": 1}}
        )
    assert info.value.field == "seq"
    assert info.value.reason.endswith("(and 2 other problems)")


def test_validator_messages_lose_pydantic_prefix() -> None:
    with pytest.raises(ProtocolError) as info:
        respond("c1", "   ")
    assert str(info.value) == "properties.text: must hold more than white space"


def test_protocol_error_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        validate_interaction({"event_type": "conversation.dance", "conversation_id": "c1"})
