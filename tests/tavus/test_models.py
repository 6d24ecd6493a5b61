"""The REST models: both name generations, lenient responses, strict requests, JSON Patch."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from cvi_app.tavus.models import (
    MAX_NAME_CHARS,
    MAX_PROMPT_CHARS,
    Conversation,
    ConversationCreate,
    PatchOperation,
    Persona,
    PersonaCreate,
    Replica,
)


def test_newer_names_fill_the_legacy_fields() -> None:
    persona = Persona.model_validate(
        {"pal_id": "p1", "pal_name": "Guide", "default_face_id": "r1", "pal_type": "user"}
    )
    replica = Replica.model_validate({"face_id": "r1", "face_name": "Anna"})
    conversation = Conversation.model_validate(
        {"conversation_id": "c1", "pal_id": "p1", "face_id": "r1"}
    )
    assert (persona.persona_id, persona.persona_name, persona.default_replica_id) == (
        "p1",
        "Guide",
        "r1",
    )
    assert persona.persona_type == "user"
    assert (replica.replica_id, replica.replica_name) == ("r1", "Anna")
    assert (conversation.persona_id, conversation.replica_id) == ("p1", "r1")
    body = ConversationCreate.model_validate({"pal_id": "p1", "face_id": "r1"}).to_body()
    assert body == {"persona_id": "p1", "replica_id": "r1"}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2024-01-24T07:14:03.327Z", datetime(2024, 1, 24, 7, 14, 3, 327000, tzinfo=UTC)),
        ("Wed, 04 Sep 2024 21:15:22 GMT", datetime(2024, 9, 4, 21, 15, 22, tzinfo=UTC)),
        ("2024-01-24T07:14:03", datetime(2024, 1, 24, 7, 14, 3, tzinfo=UTC)),
        ("", None),
        ("<string>", None),
        (12, None),
    ],
)
def test_response_timestamps_are_aware_or_none(raw: object, expected: datetime | None) -> None:
    assert (
        Conversation.model_validate({"conversation_id": "c1", "created_at": raw}).created_at
        == expected
    )


def test_responses_keep_unknown_fields() -> None:
    conversation = Conversation.model_validate({"conversation_id": "c1", "future_field": 1})
    assert conversation.model_extra == {"future_field": 1}


def test_request_bodies_are_strict_and_send_only_what_was_set() -> None:
    with pytest.raises(ValidationError, match="audio_only"):
        ConversationCreate.model_validate({"audio_only": "true"})
    with pytest.raises(ValidationError, match="pipeline_mode"):
        PersonaCreate.model_validate({"pipeline_mode": "other"})
    body = ConversationCreate.model_validate({"properties": {"enable_recording": True}}).to_body()
    assert body == {"properties": {"enable_recording": True}}
    defaults = ConversationCreate().properties
    assert (defaults.max_call_duration, defaults.participant_left_timeout) == (3600, 0)
    assert defaults.participant_absent_timeout == 300


def test_persona_exposes_tools_and_perception() -> None:
    plain = Persona(persona_id="p1")
    assert plain.tools == [] and plain.perception_enabled is False
    rich = Persona.model_validate(
        {
            "persona_id": "p2",
            "layers": {
                "llm": {"tools": [{"type": "function", "function": {"name": "get_weather"}}]},
                "perception": {"perception_model": "raven-0"},
            },
        }
    )
    assert [t.function.name for t in rich.tools] == ["get_weather"]
    assert rich.perception_enabled and rich.perception_model == "raven-0"
    off = Persona.model_validate(
        {"persona_id": "p3", "layers": {"perception": {"perception_model": "off"}}}
    )
    assert off.perception_enabled is False


def test_patch_operations_check_their_operands() -> None:
    assert PatchOperation(op="remove", path="/context").to_json() == {
        "op": "remove",
        "path": "/context",
    }
    assert PatchOperation(op="add", path="/context", value=None).to_json() == {
        "op": "add",
        "path": "/context",
        "value": None,
    }
    moved = PatchOperation.model_validate({"op": "move", "from": "/a", "path": "/b"})
    assert moved.to_json() == {"op": "move", "from": "/a", "path": "/b"}
    with pytest.raises(ValidationError, match="value"):
        PatchOperation(op="replace", path="/context")
    with pytest.raises(ValidationError, match="from"):
        PatchOperation(op="copy", path="/b")
    with pytest.raises(ValidationError, match="JSON Pointer"):
        PatchOperation(op="remove", path="context")


def test_request_bodies_refuse_fields_longer_than_tavus_allows() -> None:
    with pytest.raises(ValidationError, match="conversation_name"):
        ConversationCreate(conversation_name="n" * (MAX_NAME_CHARS + 1))
    with pytest.raises(ValidationError, match="conversational_context"):
        ConversationCreate(conversational_context="c" * (MAX_PROMPT_CHARS + 1))
    with pytest.raises(ValidationError, match="pal_name"):
        PersonaCreate.model_validate({"pal_name": "n" * 50_000_000})
    with pytest.raises(ValidationError, match="system_prompt"):
        PersonaCreate(system_prompt="s" * (MAX_PROMPT_CHARS + 1))
    assert ConversationCreate(conversation_name="n" * MAX_NAME_CHARS).conversation_name
