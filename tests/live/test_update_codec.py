"""Live updates as bytes between processes: every type comes back equal; bad bytes are refused."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from cvi_app.live.update_codec import (
    MAX_UPDATE_BYTES,
    UpdateDecodeError,
    UpdateEncodeError,
    decode_update,
    encode_update,
)
from cvi_app.live.updates import (
    EventReceived,
    InteractionSent,
    LiveUpdate,
    Notice,
    OperatorNote,
    PresenceChanged,
    PresentParticipant,
    SpeakingChanged,
    StatusChanged,
    ToolCallUpdate,
)
from cvi_app.protocol import echo_text, parse_event, respond, tool_result

AT = datetime(2025, 3, 4, 5, 6, 7, 890123, tzinfo=UTC)


def _utterance(text: str = "Hello there", **extra: object) -> EventReceived:
    event = parse_event(
        {
            "message_type": "conversation",
            "event_type": "conversation.utterance",
            "conversation_id": "c123",
            "seq": 7,
            "turn_idx": 2,
            "inference_id": "inf-1",
            "properties": {"role": "replica", "speech": text},
            **extra,
        }
    )
    return EventReceived(event=event, raw=event.to_json(), at=AT, update_id=12)


def _tool_call() -> EventReceived:
    event = parse_event(
        {
            "message_type": "conversation",
            "event_type": "conversation.tool_call",
            "conversation_id": "c123",
            "inference_id": "inf-2",
            "properties": {"name": "get_weather", "arguments": '{"city": "Oslo"}'},
        }
    )
    return EventReceived(event=event, raw=event.to_json(), at=AT, update_id=13)


EVERY_KIND: list[LiveUpdate] = [
    _utterance(),
    _utterance('Ünïcødé ✓ and "quotes"\n', vendor_field={"kept": [1, 2]}),
    _tool_call(),
    EventReceived(event=_utterance().event, at=AT, update_id=14),  # no raw text given
    EventReceived(
        event=parse_event({"event_type": "conversation.something_new", "properties": {"x": 1}}),
        raw='{"event_type":"conversation.something_new","properties":{"x":1}}',
        at=AT,
    ),
    InteractionSent(interaction=respond("c123", "What's the weather?"), at=AT, update_id=15),
    InteractionSent(interaction=echo_text("c123", "Repeat after me"), at=AT, update_id=16),
    InteractionSent(interaction=tool_result("c123", "call-1", "Sunny, 21 C"), at=AT),
    ToolCallUpdate(
        tool_call_id="call-1",
        name="get_weather",
        arguments={"city": "Oslo", "days": [1, 2], "nested": {"deep": None}},
        status="pending",
        at=AT,
        update_id=17,
    ),
    ToolCallUpdate(
        tool_call_id="call-1",
        name="get_weather",
        arguments={},
        status="success",
        output="Sunny",
        latency_ms=12.5,
        at=AT,
        update_id=18,
    ),
    StatusChanged(status="live", at=AT, update_id=1),
    StatusChanged(status="ended", reason="participant_left_timeout", at=AT, update_id=99),
    Notice(topic="connection", text="The room connection was lost.", active=True, at=AT),
    Notice(topic="replica", text="", active=False, at=AT, update_id=20),
    SpeakingChanged(replica=True, user=False, at=AT, update_id=21),
    PresenceChanged(at=AT),
    PresenceChanged(
        participants=[
            PresentParticipant(id="r1", name="Replica", role="replica", joined_at=AT),
            PresentParticipant(id="me", name="CVI Studio", role="app", joined_at=AT),
            PresentParticipant(id="p1", name="Ada", role="person", joined_at=AT),
        ],
        others=3,
        link="connected",
        at=AT,
        update_id=22,
    ),
    OperatorNote(actor="ada@example.com", action="interrupted the replica", at=AT, update_id=23),
]


@pytest.mark.parametrize("update", EVERY_KIND, ids=lambda u: f"{u.kind}-{u.update_id}")
def test_every_update_comes_back_equal_after_a_trip_through_bytes(update: LiveUpdate) -> None:
    data = encode_update(update)
    assert isinstance(data, bytes)
    back = decode_update(data)
    assert back == update
    assert type(back) is type(update)
    assert back.model_dump() == update.model_dump()


def test_every_update_type_is_covered() -> None:
    assert {type(u) for u in EVERY_KIND} == set(LiveUpdate.__args__)  # type: ignore[attr-defined]


def test_an_event_comes_back_as_its_typed_event_with_its_wire_json() -> None:
    update = _tool_call()
    back = decode_update(encode_update(update))
    assert isinstance(back, EventReceived)
    assert type(back.event) is type(update.event)
    assert back.event.properties == update.event.properties
    assert back.raw == update.raw
    assert back.event.to_json() == update.event.to_json()


def test_an_interaction_comes_back_ready_to_send() -> None:
    update = InteractionSent(interaction=respond("c123", "Hi"), at=AT, update_id=3)
    back = decode_update(encode_update(update))
    assert isinstance(back, InteractionSent)
    assert back.interaction.to_json() == update.interaction.to_json()
    assert back.interaction.wire_size == update.interaction.wire_size


def _wire(update: LiveUpdate) -> dict[str, object]:
    value = json.loads(encode_update(update))
    assert isinstance(value, dict)
    return value


def _bytes(value: object) -> bytes:
    return json.dumps(value).encode()


BAD_INPUT = {
    "not JSON": b"{not json",
    "not UTF-8": b'{"kind": "\xff"}',
    "a JSON list": b"[1, 2]",
    "no kind": _bytes({"at": AT.isoformat(), "update_id": 1}),
    "an unknown kind": _bytes({**_wire(StatusChanged(status="live", at=AT)), "kind": "gossip"}),
    "a string for a number": _bytes(
        {**_wire(StatusChanged(status="live", at=AT)), "update_id": "3"}
    ),
    "a negative update id": _bytes({**_wire(StatusChanged(status="live", at=AT)), "update_id": -1}),
    "an unknown status": _bytes({**_wire(StatusChanged(status="live", at=AT)), "status": "zombie"}),
    "no time": _bytes(
        {k: v for k, v in _wire(StatusChanged(status="live", at=AT)).items() if k != "at"}
    ),
    "an event that is not JSON": _bytes({**_wire(_utterance()), "event": "{oops"}),
    "an event with no event_type": _bytes({**_wire(_utterance()), "event": '{"seq": 1}'}),
    "an event with a text seq": _bytes(
        {**_wire(_utterance()), "event": '{"event_type": "conversation.utterance", "seq": "1"}'}
    ),
    "an interaction that is not documented": _bytes(
        {
            **_wire(InteractionSent(interaction=respond("c1", "x"), at=AT)),
            "interaction": '{"message_type":"conversation","event_type":"conversation.hack",'
            '"conversation_id":"c1"}',
        }
    ),
    "an interaction that is a list": _bytes(
        {**_wire(InteractionSent(interaction=respond("c1", "x"), at=AT)), "interaction": "[]"}
    ),
    "an interaction as an object, not its JSON": _bytes(
        {
            **_wire(InteractionSent(interaction=respond("c1", "x"), at=AT)),
            "interaction": {"event_type": "conversation.respond"},
        }
    ),
    "tool arguments that are not an object": _bytes(
        {
            **_wire(
                ToolCallUpdate(tool_call_id="t", name="n", arguments={}, status="pending", at=AT)
            ),
            "arguments": [1],
        }
    ),
    "deeply nested JSON": b'{"kind": "tool", "arguments": '
    + b"[" * 100_000
    + b"]" * 100_000
    + b"}",
}


@pytest.mark.parametrize("data", BAD_INPUT.values(), ids=BAD_INPUT.keys())
def test_bytes_that_are_not_an_update_are_refused_with_a_reason(data: bytes) -> None:
    with pytest.raises(UpdateDecodeError) as refused:
        decode_update(data)
    assert str(refused.value)


def test_bytes_over_the_limit_are_refused_before_they_are_parsed() -> None:
    padding = "x" * MAX_UPDATE_BYTES
    data = _bytes({**_wire(Notice(topic="replica", text="", active=True, at=AT)), "text": padding})
    with pytest.raises(UpdateDecodeError, match="limit"):
        decode_update(data)


def test_an_update_too_large_to_send_is_refused_on_encoding() -> None:
    huge = ToolCallUpdate(
        tool_call_id="t", name="n", arguments={}, status="success", output="x" * MAX_UPDATE_BYTES
    )
    with pytest.raises(UpdateEncodeError, match="limit"):
        encode_update(huge)
