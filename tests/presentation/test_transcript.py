"""How updates look in the room's transcript: lines merged by id (event rows: test_event_log)."""

from __future__ import annotations

from typing import Any

from cvi_app.live.updates import (
    InteractionSent,
    LiveUpdate,
    StatusChanged,
    ToolCallUpdate,
)
from cvi_app.presentation.live_feed import FeedPresenter
from cvi_app.presentation.rows import event_row, tool_row
from cvi_app.protocol import (
    echo_text,
    interrupt,
    respond,
    split_echo_audio,
    split_echo_text,
)
from tests.presentation.helpers import CID, merged, received, streaming


def lines_of(updates: list[LiveUpdate]) -> list[dict[str, Any]]:
    presenter = FeedPresenter()
    return [line for update in updates for line in presenter.lines(update)]


def test_streaming_updates_and_the_utterance_of_one_reply_are_one_line() -> None:
    updates: list[LiveUpdate] = [
        received(
            "conversation.utterance",
            {"role": "replica", "speech": "Hello there friend"},
            inference_id="inf-1",
            seq=9,
        ),
        streaming("Hello", 0),
        streaming("Hello there", 1),
        streaming("Hello there friend", 2, final=True),
        received(
            "conversation.replica.stopped_speaking",
            {"duration": 1.5, "interrupted": False},
            inference_id="inf-1",
            seq=13,
        ),
    ]
    lines = lines_of(updates)
    assert {line["id"] for line in lines} == {"r-inf-1"}
    [line] = merged(lines).values()
    assert line["text"] == "Hello there friend"
    assert line["streamed"] == "Hello there friend"
    assert line["partial"] is False and "interrupted" not in line
    assert lines[1]["partial"] is True, "a line is partial while it streams"


def test_user_and_replica_lines_of_one_turn_stay_apart() -> None:
    lines = lines_of(
        [
            received("conversation.utterance", {"role": "user", "speech": "hi"}, inference_id="i"),
            received(
                "conversation.utterance", {"role": "replica", "speech": "yo"}, inference_id="i"
            ),
        ]
    )
    assert [(line["id"], line["role"]) for line in lines] == [("u-i", "user"), ("r-i", "replica")]


def test_an_interrupted_reply_is_marked_on_its_line() -> None:
    lines = lines_of(
        [
            received(
                "conversation.utterance",
                {"role": "replica", "speech": "A long story about"},
                inference_id="inf-1",
            ),
            streaming("A long", 0),
            received(
                "conversation.replica.stopped_speaking",
                {"duration": 0.4, "interrupted": True},
                inference_id="inf-1",
            ),
            streaming("A long", 1, final=True, is_interrupted=True),
            received("conversation.replica_interrupted", inference_id="inf-1"),
        ]
    )
    [line] = merged(lines).values()
    assert line["interrupted"] is True and line["partial"] is False
    assert line["streamed"] == "A long"


def test_an_interrupted_user_utterance_is_marked_too() -> None:
    [line] = lines_of(
        [
            received(
                "conversation.utterance",
                {"role": "user", "speech": "wait", "interrupted": True},
                inference_id="u1",
            )
        ]
    )
    assert (line["id"], line["interrupted"]) == ("u-u1", True)


def test_the_chunks_of_an_echo_join_into_one_line() -> None:
    text = " ".join(f"word{i}" for i in range(1500))
    chunks = split_echo_text(CID, text)
    assert len(chunks) > 1
    lines = lines_of([InteractionSent(interaction=chunk) for chunk in chunks])
    shown = merged(lines)
    [line] = shown.values()
    assert line["text"] == text and line["echo"] is True and line["role"] == "replica"
    assert line["id"] == f"r-{chunks[0].properties.inference_id}"


def test_two_echoes_are_two_lines_and_audio_shows_as_audio() -> None:
    first = echo_text(CID, "first", inference_id="e1")
    second = echo_text(CID, "second", inference_id="e2")
    audio = split_echo_audio(CID, b"\x00\x01" * 16000, sample_rate=16000)  # one second
    shown = merged(lines_of([InteractionSent(interaction=i) for i in (first, second, *audio)]))
    assert [line["text"] for line in shown.values()] == ["first", "second", "[audio echo, 1.0 s]"]


def test_what_does_not_change_the_transcript_gives_no_lines() -> None:
    assert (
        lines_of(
            [
                InteractionSent(interaction=respond(CID, "hello")),
                InteractionSent(interaction=interrupt(CID)),
                received("conversation.replica.started_speaking", inference_id="inf-1"),
                received("conversation.stopped_speaking", {"role": "user", "duration": 1.0}),
                received("conversation.replica.stopped_speaking", {"duration": 1.0}),
                StatusChanged(status="live"),
            ]
        )
        == []
    )


def test_events_without_seq_or_inference_get_their_own_lines_and_rows() -> None:
    ids, rows = [], []
    presenter = FeedPresenter()
    for n in range(50):
        update = received("conversation.utterance", {"role": "replica", "speech": f"line {n}"})
        ids.extend(line["id"] for line in presenter.lines(update))
        row = event_row(update)
        assert row is not None
        rows.append(row["id"])
        del update
    assert len(set(ids)) == len(set(rows)) == 50


def test_status_and_tool_updates_are_not_event_rows_and_tools_have_their_own() -> None:
    assert event_row(StatusChanged(status="ended", reason="done")) is None
    call = ToolCallUpdate(
        tool_call_id="call-1",
        name="get_weather",
        arguments={"city": "Paris"},
        status="success",
        output="x" * 1000,
        latency_ms=12.4,
    )
    assert event_row(call) is None
    row = tool_row(call)
    assert row["arguments"] == '{"city": "Paris"}'
    assert row["latency"] == "12 ms" and row["status"] == "success"
    assert len(row["output"]) == 300
    pending = tool_row(call.model_copy(update={"status": "pending", "latency_ms": None}))
    assert pending["latency"] == ""
