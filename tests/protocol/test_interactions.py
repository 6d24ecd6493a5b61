"""Outbound interactions: documented types only, checked fields, one app-message each."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import given

from cvi_app.protocol import (
    MAX_APP_MESSAGE_BYTES,
    EchoInteraction,
    InterruptInteraction,
    MessageTooLarge,
    ProtocolError,
    RespondInteraction,
    SensitivityInteraction,
    ToolResultInteraction,
    append_context,
    echo_text,
    interrupt,
    message_size,
    overwrite_context,
    respond,
    sensitivity,
    tool_result,
    validate_interaction,
)

from .strategies import THOROUGH, valid_interactions


def _echo(**properties: object) -> dict[str, object]:
    return {"event_type": "conversation.echo", "conversation_id": "c1", "properties": properties}


def test_respond_builds_the_documented_message() -> None:
    assert respond("c1", "Tell me about pricing.").to_message() == {
        "message_type": "conversation",
        "event_type": "conversation.respond",
        "conversation_id": "c1",
        "properties": {"text": "Tell me about pricing."},
    }


def test_interrupt_sends_no_properties() -> None:
    message = interrupt("c1").to_message()
    assert message == {
        "message_type": "conversation",
        "event_type": "conversation.interrupt",
        "conversation_id": "c1",
    }
    assert isinstance(validate_interaction(message), InterruptInteraction)
    with_null = validate_interaction({**message, "properties": None})
    assert with_null.to_message() == message


@pytest.mark.parametrize("text", ["", " ", "\n\t  "])
def test_blank_text_and_context_are_refused(text: str) -> None:
    with pytest.raises(ProtocolError, match=r"^properties\.text: must hold more than white space"):
        respond("c1", text)
    with pytest.raises(ProtocolError, match=r"^properties\.text"):
        echo_text("c1", text)
    with pytest.raises(ProtocolError, match=r"^properties\.context"):
        overwrite_context("c1", text)
    with pytest.raises(ProtocolError, match=r"^properties\.context"):
        append_context("c1", text)


@pytest.mark.parametrize("conversation_id", ["", "   "])
def test_conversation_id_is_required_on_every_interaction(conversation_id: str) -> None:
    with pytest.raises(ProtocolError, match="^conversation_id"):
        interrupt(conversation_id)
    with pytest.raises(ProtocolError, match="^conversation_id: Field required"):
        validate_interaction({"event_type": "conversation.interrupt"})


def test_echo_text_defaults_to_done() -> None:
    interaction = validate_interaction(_echo(text="Hello"))
    assert isinstance(interaction, EchoInteraction)
    assert interaction.to_message()["properties"] == {
        "modality": "text",
        "text": "Hello",
        "done": True,
    }


def test_echo_audio_defaults_to_not_done() -> None:
    interaction = validate_interaction(_echo(modality="audio", audio="AAAA", sample_rate=24000))
    assert isinstance(interaction, EchoInteraction)
    assert interaction.properties.done is False


@pytest.mark.parametrize(("given", "sent"), [("true", True), ("false", False), (" True ", True)])
def test_echo_done_from_user_text_is_sent_as_a_json_boolean(given: str, sent: bool) -> None:
    message = validate_interaction(_echo(text="Hi", done=given)).to_message()
    assert message["properties"]["done"] is sent
    assert f'"done":{json.dumps(sent)}' in json.dumps(message, separators=(",", ":"))


@pytest.mark.parametrize("done", ["yes", 1, 0, "", ["true"]])
def test_echo_done_refuses_anything_else(done: object) -> None:
    with pytest.raises(ProtocolError, match=r"^properties\.done"):
        validate_interaction(_echo(text="Hi", done=done))


@pytest.mark.parametrize(
    ("properties", "field"),
    [
        ({"modality": "audio", "audio": "not base64!"}, "properties.audio"),
        ({"modality": "audio", "audio": "AAA"}, "properties.audio"),
        ({"modality": "audio"}, "properties"),
        ({"modality": "audio", "audio": "AAAA", "text": "hi"}, "properties"),
        ({"modality": "text", "audio": "AAAA", "text": "hi"}, "properties"),
        ({"modality": "text"}, "properties"),
        ({"modality": "audio", "audio": "AAAA", "sample_rate": "24000"}, "properties.sample_rate"),
        ({"modality": "audio", "audio": "AAAA", "sample_rate": 0}, "properties.sample_rate"),
        ({"modality": "audio", "audio": "", "done": False}, "properties"),
        ({"text": "hi", "volume": 11}, "properties.volume"),
    ],
)
def test_invalid_echoes_are_refused(properties: dict, field: str) -> None:
    with pytest.raises(ProtocolError) as info:
        validate_interaction(_echo(**properties))
    assert info.value.field == field


def test_empty_audio_may_close_a_stream() -> None:
    closing = validate_interaction(_echo(modality="audio", audio="", inference_id="e1", done=True))
    assert isinstance(closing, EchoInteraction)


def test_echo_text_builder_carries_inference_id_and_done() -> None:
    props = echo_text("c1", "part one", inference_id="e1", done=False).to_message()["properties"]
    assert props == {"modality": "text", "text": "part one", "inference_id": "e1", "done": False}


def test_append_context_may_mark_the_job_completed() -> None:
    assert append_context("c1", "Done.", job_status="completed").to_message()["properties"] == {
        "context": "Done.",
        "job_status": "completed",
    }
    with pytest.raises(ProtocolError, match=r"^properties\.job_status"):
        append_context("c1", "Done.", job_status="failed")  # type: ignore[arg-type]


def test_overwrite_context_uses_the_documented_name() -> None:
    message = overwrite_context("c1", "The user is new.").to_message()
    assert message["event_type"] == "conversation.overwrite_llm_context"


@pytest.mark.parametrize(
    ("alias", "documented"),
    [
        ("conversation.overwrite_context", "conversation.overwrite_llm_context"),
        ("conversation.append_context", "conversation.append_llm_context"),
    ],
)
def test_undocumented_context_names_are_refused_pointing_at_the_right_one(
    alias: str, documented: str
) -> None:
    with pytest.raises(ProtocolError) as info:
        validate_interaction(
            {"event_type": alias, "conversation_id": "c1", "properties": {"context": "x"}}
        )
    assert info.value.field == "event_type"
    assert documented in info.value.reason


@pytest.mark.parametrize(
    "event_type", ["conversation.utterance", "conversation.dance", "system.shutdown", ""]
)
def test_only_documented_interactions_may_be_sent(event_type: str) -> None:
    with pytest.raises(ProtocolError, match="^event_type: .* not an interaction the app may send"):
        validate_interaction({"event_type": event_type, "conversation_id": "c1"})


def test_message_type_must_be_conversation() -> None:
    with pytest.raises(ProtocolError, match="^message_type"):
        validate_interaction(
            {
                "message_type": "system",
                "event_type": "conversation.interrupt",
                "conversation_id": "c",
            }
        )


def test_unknown_fields_are_not_sent() -> None:
    with pytest.raises(ProtocolError, match="^priority"):
        validate_interaction(
            {"event_type": "conversation.interrupt", "conversation_id": "c1", "priority": 1}
        )


def test_sensitivity_with_both_levels_gives_two_messages() -> None:
    messages = sensitivity("c1", pause="low", interrupt="high")
    assert [m.to_message()["properties"] for m in messages] == [
        {"participant_pause_sensitivity": "low"},
        {"participant_interrupt_sensitivity": "high"},
    ]
    assert all(isinstance(m, SensitivityInteraction) for m in messages)


def test_sensitivity_with_one_level_gives_one_message() -> None:
    (message,) = sensitivity("c1", interrupt="auto")
    assert message.properties.participant_interrupt_sensitivity == "auto"


def test_sensitivity_needs_a_level() -> None:
    with pytest.raises(ProtocolError, match="^properties"):
        sensitivity("c1")
    with pytest.raises(ProtocolError, match="participant_pause_sensitivity"):
        sensitivity("c1", pause="extreme")  # type: ignore[arg-type]


def test_sensitivity_message_with_both_keys_is_refused() -> None:
    with pytest.raises(ProtocolError, match="exactly one"):
        validate_interaction(
            {
                "event_type": "conversation.sensitivity",
                "conversation_id": "c1",
                "properties": {
                    "participant_pause_sensitivity": "low",
                    "participant_interrupt_sensitivity": "low",
                },
            }
        )


def test_tool_result_encodes_structured_output_as_json_text() -> None:
    result = tool_result("c1", "call_1", {"temp_c": 18, "sky": "clear"})
    assert isinstance(result, ToolResultInteraction)
    props = result.to_message()["properties"]
    assert json.loads(props["output"]) == {"temp_c": 18, "sky": "clear"}
    assert props["status"] == "success"
    assert json.loads(tool_result("c1", "call_1", [1, 2]).properties.output) == [1, 2]


def test_tool_result_reports_errors_and_keeps_string_output() -> None:
    result = tool_result("c1", "call_1", "city not found", status="error")
    assert result.to_message()["properties"] == {
        "tool_call_id": "call_1",
        "output": "city not found",
        "status": "error",
    }


@pytest.mark.parametrize(
    ("tool_call_id", "output", "status", "field"),
    [
        ("", "x", "success", "properties.tool_call_id"),
        ("call_1", 42, "success", "properties.output"),
        ("call_1", None, "success", "properties.output"),
        ("call_1", "x", "failed", "properties.status"),
    ],
)
def test_tool_result_refuses_bad_fields(
    tool_call_id: str, output: object, status: str, field: str
) -> None:
    with pytest.raises(ProtocolError) as info:
        tool_result("c1", tool_call_id, output, status=status)  # type: ignore[arg-type]
    assert info.value.field == field


def test_message_over_four_kilobytes_is_refused() -> None:
    with pytest.raises(ProtocolError, match="4096-byte app-message limit"):
        respond("c1", "x" * 5000)
    with pytest.raises(ProtocolError, match="split_echo_text"):
        validate_interaction(_echo(text="y" * 5000))


def test_an_oversized_message_is_refused_as_too_large_with_its_size_and_the_limit() -> None:
    overhead = message_size(respond("c1", "a").to_message()) - 1
    with pytest.raises(MessageTooLarge) as built:
        respond("c1", "x" * (MAX_APP_MESSAGE_BYTES - overhead + 1))
    assert (built.value.size, built.value.limit) == (MAX_APP_MESSAGE_BYTES + 1, 4096)
    assert built.value.field is None
    with pytest.raises(MessageTooLarge) as checked:
        validate_interaction(json.dumps(_echo(modality="text", text="y" * 5000)))
    assert checked.value.size > checked.value.limit == MAX_APP_MESSAGE_BYTES


def test_a_message_refused_for_another_reason_is_not_too_large() -> None:
    with pytest.raises(ProtocolError) as info:
        respond("c1", "   ")
    assert not isinstance(info.value, MessageTooLarge)


def test_size_limit_counts_utf8_bytes_not_characters() -> None:
    overhead = message_size(respond("c1", "a").to_message()) - 1
    fits = "é" * ((MAX_APP_MESSAGE_BYTES - overhead) // 2)
    assert message_size(respond("c1", fits).to_message()) <= MAX_APP_MESSAGE_BYTES
    with pytest.raises(ProtocolError):
        respond("c1", fits + "é")


def test_message_of_exactly_the_limit_is_accepted() -> None:
    overhead = message_size(respond("c1", "a").to_message()) - 1
    message = respond("c1", "a" * (MAX_APP_MESSAGE_BYTES - overhead)).to_message()
    assert message_size(message) == MAX_APP_MESSAGE_BYTES


def test_to_message_refuses_a_model_grown_past_the_limit() -> None:
    small = respond("c1", "hi")
    grown = small.model_copy(update={"conversation_id": "c" * 5000})
    with pytest.raises(MessageTooLarge, match="limit"):
        grown.to_message()
    with pytest.raises(MessageTooLarge, match="limit"):
        grown.to_json()


def test_the_wire_json_is_the_compact_message_and_its_size_is_counted_in_bytes() -> None:
    interaction = respond("c1", 'Hé "there"\n')
    message = interaction.to_message()
    assert interaction.to_json() == json.dumps(message, separators=(",", ":"), ensure_ascii=False)
    assert interaction.wire_size == message_size(message) == len(interaction.to_json().encode())


def test_changing_the_message_a_caller_got_changes_nothing_that_is_sent() -> None:
    interaction = respond("c1", "hello")
    message = interaction.to_message()
    message["properties"]["text"] = "changed"
    assert interaction.to_message()["properties"]["text"] == "hello"
    assert json.loads(interaction.to_json())["properties"]["text"] == "hello"


def test_a_copy_with_changes_sends_the_changed_message() -> None:
    original = respond("c1", "hello")
    moved = original.model_copy(update={"conversation_id": "c2"})
    assert json.loads(moved.to_json())["conversation_id"] == "c2"
    assert moved == respond("c2", "hello")
    assert json.loads(original.to_json())["conversation_id"] == "c1"


def test_text_with_lone_surrogates_is_refused() -> None:
    with pytest.raises(ProtocolError, match="UTF-8"):
        respond("c1", "bad \ud800 text")


def test_builders_return_typed_models() -> None:
    assert isinstance(respond("c1", "a"), RespondInteraction)
    assert isinstance(echo_text("c1", "a"), EchoInteraction)


@THOROUGH
@given(valid_interactions())
def test_every_valid_interaction_round_trips(raw: dict) -> None:
    interaction = validate_interaction(raw)
    message = interaction.to_message()
    assert message_size(message) <= MAX_APP_MESSAGE_BYTES
    wire = json.loads(json.dumps(message, separators=(",", ":"), ensure_ascii=False))
    again = validate_interaction(wire)
    assert again == interaction
    assert again.to_message() == message
    if interaction.event_type == "conversation.echo" and "done" in message["properties"]:
        assert isinstance(message["properties"]["done"], bool)


def test_audio_echo_round_trips_its_pcm() -> None:
    pcm = bytes(range(256)) * 2
    audio = base64.b64encode(pcm).decode()
    interaction = validate_interaction(_echo(modality="audio", audio=audio, done=True))
    assert isinstance(interaction, EchoInteraction)
    assert base64.b64decode(interaction.to_message()["properties"]["audio"]) == pcm
