"""The local room's wire format: one declaration, parsed alike by the room and its clients."""

from __future__ import annotations

import json
from typing import Any

import pytest

from cvi_app.transport.local_frames import (
    MAX_CLIENT_FRAME_BYTES,
    MAX_SERVER_FRAME_BYTES,
    AppMessageFrame,
    ErrorFrame,
    FrameError,
    JoinedFrame,
    LeaveFrame,
    ParticipantFrame,
    ParticipantInfo,
    ReceivedAppMessageFrame,
    RoomClosedFrame,
    app_message_frame_text,
    parse_client_frame,
    parse_server_frame,
)

ADA = ParticipantInfo(id="p-ada", user_id="p-ada", user_name="ada")
REPLICA = ParticipantInfo(
    id="p-r", user_id="tavus-replica-p-r", user_name="tavus-replica Anna", is_replica=True
)


@pytest.mark.parametrize(
    "frame",
    [
        JoinedFrame(conversation_id="c1", participant=ADA, participants=[REPLICA]),
        ParticipantFrame(type="participant-joined", participant=REPLICA),
        ParticipantFrame(type="participant-left", participant=REPLICA),
        ReceivedAppMessageFrame(data={"event_type": "x", "n": [1, "é"]}, from_id="p-r"),
        ErrorFrame(reason="no participant 'x' in the room"),
        RoomClosedFrame(reason="max_call_duration reached"),
    ],
)
def test_what_the_room_sends_its_clients_read_back_the_same(frame: Any) -> None:
    assert parse_server_frame(frame.model_dump_json()) == frame


def test_an_app_message_names_its_sender_as_fromId_on_the_wire() -> None:
    frame = ReceivedAppMessageFrame(data={"a": 1}, from_id="p-r")
    assert json.loads(frame.model_dump_json())["fromId"] == "p-r"


@pytest.mark.parametrize("frame", [AppMessageFrame(data={"a": 1}, to="p-ada"), LeaveFrame()])
def test_what_a_client_sends_the_room_reads_back_the_same(frame: Any) -> None:
    assert parse_client_frame(frame.model_dump_json()) == frame


@pytest.mark.parametrize("to", ["*", "p-ada", 'we"ird\\id'])
def test_a_frame_around_ready_json_reads_as_the_model_would(to: str) -> None:
    data = {"event_type": "conversation.respond", "properties": {"text": 'Hé "there"'}}
    text = app_message_frame_text(json.dumps(data, ensure_ascii=False), to)
    assert parse_client_frame(text) == AppMessageFrame(data=data, to=to)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("this is not json", "frame is not valid JSON"),
        ('{"type": "dance"}', "unknown frame type (expected 'app-message' or 'leave')"),
        ("{}", "unknown frame type"),
        ('{"type": "app-message", "to": "*"}', "bad frame: app-message.data"),
        ('{"type": "app-message", "data": "a string"}', "bad frame: app-message.data"),
        ('{"type": "app-message", "data": {}, "to": ""}', "bad frame: app-message.to"),
        ('{"type": "leave", "extra": 1}', "bad frame: leave.extra"),
        # A client cannot pose as the room: server frames are not client frames.
        ('{"type": "joined", "conversation_id": "c"}', "unknown frame type"),
    ],
)
def test_the_room_refuses_a_bad_client_frame_with_a_reason(raw: str, reason: str) -> None:
    with pytest.raises(FrameError) as info:
        parse_client_frame(raw)
    assert str(info.value).startswith(reason)


def _me(**change: Any) -> dict[str, Any]:
    return {"id": "me", "user_id": "me", "user_name": "alice", "is_replica": False, **change}


@pytest.mark.parametrize(
    ("frame", "reason"),
    [
        ({"type": "app-message", "data": "not an object", "fromId": "x"}, "app-message.data"),
        ({"type": "app-message", "data": {}, "fromId": ""}, "app-message.fromId"),
        ({"type": "app-message", "data": {}}, "app-message.fromId"),
        ({"type": "joined", "participant": _me(), "participants": []}, "conversation_id"),
        ({"type": "joined", "conversation_id": "c", "participant": _me(id="")}, "participant"),
        ({"type": "participant-joined", "participant": {"id": "x"}}, "user_id"),
        ({"type": "error"}, "error.reason"),
        ({"type": "teleport"}, "unknown frame type"),
    ],
)
def test_a_client_refuses_a_bad_server_frame_with_a_reason(
    frame: dict[str, Any], reason: str
) -> None:
    with pytest.raises(FrameError, match=reason.replace(".", r"\.")):
        parse_server_frame(json.dumps(frame))


def test_both_sides_refuse_an_oversized_frame_before_reading_it() -> None:
    # Far over the bound, and not even JSON: the size alone refuses it.
    with pytest.raises(FrameError, match=f"limit is {MAX_CLIENT_FRAME_BYTES}"):
        parse_client_frame(b"[" * (MAX_CLIENT_FRAME_BYTES + 1))
    with pytest.raises(FrameError, match=f"limit is {MAX_SERVER_FRAME_BYTES}"):
        parse_server_frame("[" * (MAX_SERVER_FRAME_BYTES + 1))


def test_a_4kb_message_with_every_character_escaped_still_fits_a_client_frame() -> None:
    data = {"text": "é" * 2000}  # about 4 KB as compact UTF-8 JSON
    frame = json.dumps({"type": "app-message", "data": data})  # ensure_ascii: \u00e9 each
    assert len(frame) > 4 * 2000
    assert parse_client_frame(frame) == AppMessageFrame(data=data)


def test_frames_from_a_newer_room_with_fields_this_client_does_not_know_are_read() -> None:
    frame = {"type": "room-closed", "reason": "ended", "closed_at": 12}
    assert parse_server_frame(json.dumps(frame)) == RoomClosedFrame(reason="ended")
