"""The simulated replica in a real room: every interaction gives the events a real turn gives."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from cvi_app.protocol import (
    append_context,
    echo_text,
    interrupt,
    overwrite_context,
    parse_event,
    respond,
    sensitivity,
    split_echo_audio,
    split_echo_text,
    tool_result,
)
from cvi_app.sandbox import replica as replica_module
from cvi_app.sandbox.replica import SimulatedReplica
from cvi_app.sandbox.responder import LONG_STORY, Responder, ToolSpec
from cvi_app.sandbox.rooms import LocalParticipant, RoomHub
from cvi_app.sandbox.user_speech import UserSpeech
from tests.support.servers import wait_for

CID = "c0a1b2c3d4e"
WEATHER = ToolSpec(
    "get_weather",
    {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
)


class Listener:
    """An in-process participant that keeps every event the replica sends."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.participant: LocalParticipant | None = None

    def on_message(self, data: dict[str, Any], sender: str) -> None:
        parse_event(data)  # every event the replica sends must parse
        self.events.append(data)

    def types(self) -> list[str]:
        return [event["event_type"] for event in self.events]

    async def until(self, event_type: str, *, count: int = 1) -> list[dict[str, Any]]:
        """Wait for the `count`-th event of a type; return the events up to it, and forget them."""

        def seen() -> bool:
            return self.types().count(event_type) >= count

        await wait_for(seen, what=f"{count} x {event_type} (got {self.types()})")
        index = [i for i, t in enumerate(self.types()) if t == event_type][count - 1]
        taken, self.events = self.events[: index + 1], self.events[index + 1 :]
        return taken

    async def send(self, message: dict[str, Any]) -> None:
        assert self.participant is not None
        await self.participant.send(message)


def types(events: list[dict[str, Any]]) -> list[str]:
    return [event["event_type"] for event in events]


def collapse(names: list[str]) -> list[str]:
    out: list[str] = []
    for name in names:
        if not out or out[-1] != name:
            out.append(name)
    return out


TURN = [
    "conversation.replica.started_speaking",
    "conversation.utterance",
    "conversation.utterance.streaming",
    "conversation.replica.stopped_speaking",
]
HEARD = [
    "conversation.user.started_speaking",
    "conversation.user.stopped_speaking",
    "conversation.utterance",
]
"""How every user turn opens, typed or spoken: the user speaks, then their words."""


def replica_said(turn: list[dict[str, Any]]) -> str:
    """The replica's full utterance in a turn."""
    return str(
        next(
            e["properties"]["speech"]
            for e in turn
            if e["event_type"] == "conversation.utterance" and e["properties"]["role"] == "replica"
        )
    )


async def start(
    hub: RoomHub, *, greet: bool = True, **options: Any
) -> tuple[SimulatedReplica, Listener]:
    room = hub.open(CID)
    responder = options.pop("responder", None) or Responder(
        persona_name="Anna", tools=[WEATHER], context="The office opens at 9am."
    )
    replica = SimulatedReplica(
        room,
        conversation_id=CID,
        responder=responder,
        replica_id="r123",
        words_per_second=options.pop("words_per_second", 500.0),
        **dict(options),
    )
    await replica.start()
    listener = Listener()
    listener.participant = await room.join(user_name="app", on_app_message=listener.on_message)
    if greet:
        twins = options.get("twins", False)
        await listener.until(f"conversation.{'' if twins else 'replica.'}stopped_speaking")
    return replica, listener


@pytest.fixture
async def hub() -> AsyncIterator[RoomHub]:
    rooms = RoomHub()
    yield rooms
    await rooms.close_all("test over")


async def test_replica_greets_the_first_participant_with_the_custom_greeting(hub: RoomHub) -> None:
    _, listener = await start(hub, greet=False, custom_greeting="Welcome to Acme!")
    greeting = await listener.until("conversation.replica.stopped_speaking")
    assert collapse(types(greeting)) == TURN
    utterance = greeting[1]
    assert utterance["properties"] == {"role": "replica", "speech": "Welcome to Acme!"}
    assert greeting[-2]["properties"]["speech"] == "Welcome to Acme!"
    assert greeting[-2]["properties"]["final"] is True


async def test_respond_is_a_full_turn_with_ordered_stamped_events(hub: RoomHub) -> None:
    pace = 100.0  # words a second
    _, listener = await start(hub, words_per_second=pace)
    await listener.send(respond(CID, "What time does the office open?").to_message())
    turn = await listener.until("conversation.replica.stopped_speaking")
    assert collapse(types(turn)) == [*HEARD, *TURN]
    assert turn[2]["properties"] == {"role": "user", "speech": "What time does the office open?"}
    reply = replica_said(turn)
    assert "9am" in reply
    seqs = [event["seq"] for event in turn]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    assert {event["turn_idx"] for event in turn} == {1}
    assert len({event["inference_id"] for event in turn}) == 1
    assert all(event["conversation_id"] == CID and event["timestamp"] > 0 for event in turn)
    streaming = [e["properties"] for e in turn if e["event_type"].endswith("streaming")]
    assert [s["content_index"] for s in streaming] == list(range(len(streaming)))
    assert [s["final"] for s in streaming] == [False] * (len(streaming) - 1) + [True]
    assert all(
        b["speech"].startswith(a["speech"]) for a, b in zip(streaming, streaming[1:], strict=False)
    )
    assert streaming[-1]["speech"] == reply
    stopped = turn[-1]["properties"]
    assert stopped["interrupted"] is False
    # The duration is how long the replica spoke: from its started to its stopped speaking,
    # and at least as long as its words take at its pace.
    started = next(e for e in turn if e["event_type"] == "conversation.replica.started_speaking")
    assert stopped["duration"] == pytest.approx(
        turn[-1]["timestamp"] - started["timestamp"], abs=0.01
    )
    assert stopped["duration"] >= len(reply.split()) / pace - 0.001


async def test_user_speech_adds_the_user_speaking_events(hub: RoomHub) -> None:
    _, listener = await start(hub)
    await listener.send(UserSpeech.build("hello there", conversation_id=CID).to_message())
    turn = await listener.until("conversation.replica.stopped_speaking")
    assert collapse(types(turn)) == [*HEARD, *TURN]
    assert turn[2]["properties"]["role"] == "user"


async def test_interrupt_cuts_the_turn_short(hub: RoomHub) -> None:
    replica, listener = await start(hub, words_per_second=60.0)
    await listener.send(respond(CID, "tell me a long story").to_message())
    await listener.until("conversation.utterance.streaming")
    await listener.send(interrupt(CID).to_message())
    rest = await listener.until("conversation.replica_interrupted")
    assert (
        collapse(types(rest))
        == [
            "conversation.utterance.streaming",
            "conversation.replica.stopped_speaking",
            "conversation.utterance.streaming",
            "conversation.replica_interrupted",
        ][-len(collapse(types(rest))) :]
    )
    stopped = next(e for e in rest if e["event_type"].endswith("stopped_speaking"))
    assert stopped["properties"]["interrupted"] is True
    last = rest[-2]["properties"]
    assert last["final"] is True and last["is_interrupted"] is True
    assert LONG_STORY.startswith(last["speech"]) and last["speech"] != LONG_STORY
    assert not replica.speaking


async def test_new_respond_during_a_turn_interrupts_it(hub: RoomHub) -> None:
    _, listener = await start(hub, words_per_second=60.0)
    await listener.send(respond(CID, "tell me a long story").to_message())
    await listener.until("conversation.utterance.streaming")
    await listener.send(respond(CID, "hello").to_message())
    events = await listener.until("conversation.replica.stopped_speaking", count=2)
    names = types(events)
    assert names.index("conversation.replica_interrupted") < len(names) - 1
    stopped = [e for e in events if e["event_type"] == "conversation.replica.stopped_speaking"]
    assert [s["properties"]["interrupted"] for s in stopped] == [True, False]
    assert stopped[0]["turn_idx"] < stopped[1]["turn_idx"]


async def test_echo_text_is_spoken_verbatim_without_a_user_turn(hub: RoomHub) -> None:
    _, listener = await start(hub)
    await listener.send(echo_text(CID, "Hello there, exactly this.").to_message())
    turn = await listener.until("conversation.replica.stopped_speaking")
    assert collapse(types(turn)) == TURN
    assert turn[1]["properties"]["speech"] == "Hello there, exactly this."


async def test_long_echo_split_in_chunks_is_spoken_once_all_chunks_arrived(hub: RoomHub) -> None:
    _, listener = await start(hub, words_per_second=5000.0)
    text = "word " * 1500
    chunks = split_echo_text(CID, text, inference_id="echo-long")
    assert len(chunks) > 1
    for chunk in chunks:
        await listener.send(chunk.to_message())
    turn = await listener.until("conversation.replica.stopped_speaking")
    assert turn[0]["inference_id"] == "echo-long"
    # One app-message holds 4 KB, so the replica's own events carry as much of it as fits.
    said = turn[1]["properties"]["speech"]
    assert said.endswith("…") and " ".join(text.split()).startswith(said[:-1])
    assert len(said) > 3000


async def test_echo_audio_is_assembled_then_spoken_for_as_long_as_it_lasts(hub: RoomHub) -> None:
    _, listener = await start(hub)  # a fast speaker: audio still takes its own time
    pcm = b"\x00\x01" * (24000 * 3 // 2)  # 1.5 s at 24 kHz
    chunks = split_echo_audio(CID, pcm, sample_rate=24000, inference_id="echo-audio")
    assert len(chunks) > 1
    for chunk in chunks:
        await listener.send(chunk.to_message())
    turn = await listener.until("conversation.replica.stopped_speaking")
    assert collapse(types(turn)) == TURN
    assert turn[1]["properties"]["speech"] == "[audio 1.5s]"
    assert all(event["inference_id"] == "echo-audio" for event in turn)
    assert turn[-1]["properties"]["duration"] == pytest.approx(1.5, abs=0.2)
    assert turn[-1]["timestamp"] - turn[0]["timestamp"] == pytest.approx(1.5, abs=0.2)


async def test_unfinished_echo_audio_past_the_buffer_is_dropped(
    hub: RoomHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(replica_module, "MAX_ECHO_BYTES", 40_000)
    replica, listener = await start(hub)
    pcm = b"\x00\x01" * 24000  # 48 KB: more than the buffer holds
    for chunk in split_echo_audio(CID, pcm, sample_rate=24000, inference_id="too-long"):
        await listener.send(chunk.to_message())
    await listener.send(echo_text(CID, "Marker.").to_message())
    turn = await listener.until("conversation.replica.stopped_speaking")
    assert turn[1]["properties"]["speech"] == "Marker."
    assert replica._echo_bytes == 0


async def test_a_typed_turn_shows_the_user_speaking_for_as_long_as_the_words_take(
    hub: RoomHub,
) -> None:
    pace = 20.0
    _, listener = await start(hub, words_per_second=pace)
    words = "one two three four five six"  # 0.3 s at this pace
    await listener.send(respond(CID, words).to_message())
    turn = await listener.until("conversation.replica.stopped_speaking")
    assert collapse(types(turn)) == [*HEARD, *TURN]
    started, stopped, said = turn[:3]
    assert stopped["timestamp"] - started["timestamp"] == pytest.approx(0.3, abs=0.1)
    assert stopped["properties"]["duration"] == pytest.approx(0.3, abs=0.1)
    assert said["properties"] == {"role": "user", "speech": words}
    assert len({event["inference_id"] for event in turn}) == 1


async def test_a_respond_while_the_user_still_speaks_keeps_their_words(hub: RoomHub) -> None:
    _, listener = await start(hub, words_per_second=5.0)
    await listener.send(respond(CID, "My name is Kim and I am still talking").to_message())
    await listener.until("conversation.user.started_speaking")
    await listener.send(respond(CID, "What is my name?").to_message())
    events = await listener.until("conversation.replica.stopped_speaking")
    assert collapse(types(events)) == [*HEARD[1:], *HEARD, *TURN]
    users = [e for e in events if e["properties"].get("role") == "user"]
    assert [u["properties"]["speech"] for u in users] == [
        "My name is Kim and I am still talking",
        "What is my name?",
    ]
    assert "conversation.replica_interrupted" not in types(events)
    assert replica_said(events) == "Your name is Kim."


async def test_overwrite_and_append_context_change_what_it_knows(hub: RoomHub) -> None:
    _, listener = await start(hub)
    await listener.send(overwrite_context(CID, "The user is called Sam.").to_message())
    await listener.send(append_context(CID, "Sam likes tea.").to_message())
    await listener.send(respond(CID, "What do you know?").to_message())
    turn = await listener.until("conversation.replica.stopped_speaking")
    speech = replica_said(turn)
    assert "Sam" in speech and "tea" in speech and "9am" not in speech


async def test_sensitivity_is_recorded(hub: RoomHub) -> None:
    replica, listener = await start(hub)
    for message in sensitivity(CID, pause="high", interrupt="low"):
        await listener.send(message.to_message())
    await wait_for(lambda: len(replica.sensitivity) == 2, what="sensitivity")
    assert replica.sensitivity == {
        "participant_pause_sensitivity": "high",
        "participant_interrupt_sensitivity": "low",
    }


async def test_tool_call_waits_for_the_result_then_speaks_it(hub: RoomHub) -> None:
    _, listener = await start(hub)
    await listener.send(respond(CID, "What's the weather in Paris?").to_message())
    (*_, call) = await listener.until("conversation.tool_call")
    props = call["properties"]
    assert props["name"] == "get_weather"
    assert isinstance(props["arguments"], str)
    assert json.loads(props["arguments"]) == {"city": "Paris"}
    assert call["inference_id"]
    await listener.send(tool_result(CID, props["tool_call_id"], {"temp_c": 18}).to_message())
    turn = await listener.until("conversation.replica.stopped_speaking")
    assert collapse(types(turn)) == TURN
    assert "temp_c: 18" in turn[1]["properties"]["speech"]
    assert turn[1]["inference_id"] == call["inference_id"]


async def test_completed_append_context_counts_as_the_tool_result(hub: RoomHub) -> None:
    _, listener = await start(hub)
    await listener.send(respond(CID, "weather in Oslo please").to_message())
    await listener.until("conversation.tool_call")
    await listener.send(
        append_context(CID, "It is 3 degrees.", job_status="completed").to_message()
    )
    turn = await listener.until("conversation.replica.stopped_speaking")
    assert "3 degrees" in turn[1]["properties"]["speech"]


async def test_missing_tool_result_times_out_with_an_apology(hub: RoomHub) -> None:
    _, listener = await start(hub, tool_timeout=0.2)
    await listener.send(respond(CID, "weather in Rome").to_message())
    await listener.until("conversation.tool_call")
    turn = await listener.until("conversation.replica.stopped_speaking")
    assert "could not get the result" in turn[1]["properties"]["speech"]


async def test_invalid_messages_are_ignored_and_the_replica_keeps_working(hub: RoomHub) -> None:
    _, listener = await start(hub)
    for junk in (
        {"event_type": "conversation.respond", "conversation_id": CID, "properties": {"text": " "}},
        {"event_type": "conversation.dance", "conversation_id": CID},
        {"message_type": "sandbox", "event_type": "sandbox.user_speech", "properties": {}},
        {"totally": "unrelated"},
        respond("cSomeoneElse", "hello").to_message(),
    ):
        await listener.send(junk)
    await listener.send(respond(CID, "hello").to_message())
    turn = await listener.until("conversation.replica.stopped_speaking")
    assert collapse(types(turn)) == [*HEARD, *TURN]
    assert turn[2]["properties"]["speech"] == "hello"


async def test_twins_send_the_pal_form_of_replica_events_too(hub: RoomHub) -> None:
    _, listener = await start(hub, twins=True)
    await listener.send(echo_text(CID, "Hi.").to_message())
    turn = await listener.until("conversation.stopped_speaking")
    assert types(turn) == [
        "conversation.replica.started_speaking",
        "conversation.started_speaking",
        "conversation.utterance",
        "conversation.utterance",
        "conversation.utterance.streaming",
        "conversation.utterance.streaming",
        "conversation.replica.stopped_speaking",
        "conversation.stopped_speaking",
    ]
    assert [turn[2]["properties"]["role"], turn[3]["properties"]["role"]] == ["replica", "pal"]
    assert turn[1]["properties"]["role"] == "pal"


async def test_stop_sends_perception_analysis_then_shutdown(hub: RoomHub) -> None:
    replica, listener = await start(hub, perception=True)
    await replica.stop("end_conversation_endpoint_hit")
    end = await listener.until("system.shutdown")
    assert types(end) == ["conversation.perception_analysis", "system.shutdown"]
    assert end[0]["properties"]["analysis"] == replica.perception_analysis
    assert end[1]["message_type"] == "system"
    assert end[1]["properties"] == {"shutdown_reason": "end_conversation_endpoint_hit"}


async def test_transcript_holds_what_was_said_by_whom(hub: RoomHub) -> None:
    replica, listener = await start(hub, system_prompt="You are Anna.", custom_greeting="Hi!")
    await listener.send(respond(CID, "hello").to_message())
    await listener.until("conversation.replica.stopped_speaking")
    roles = [(entry.role, entry.content) for entry in replica.transcript]
    assert roles[:3] == [("system", "You are Anna."), ("assistant", "Hi!"), ("user", "hello")]
    assert roles[3][0] == "assistant"
