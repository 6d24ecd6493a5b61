"""A persona's own LLM (`layers.llm.base_url`) answers in the sandbox, as on Tavus.

The real sandbox (REST, rooms, simulated replica under uvicorn) talks over real HTTP to a
scripted OpenAI-compatible server (`tests/support/openai_server.py`); a real WebSocket client
reads the room. Nothing is mocked.
"""

from __future__ import annotations

import json
import logging
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
    tool_result,
)
from cvi_app.sandbox.custom_llm import (
    NOT_ANSWERING,
    TOO_MANY_TOOL_ROUNDS,
    ChatCompletionChunk,
    CustomLLMLimits,
    LLMError,
    ToolCallAssembler,
    ToolCallDelta,
    parse_sse,
)
from tests.sandbox.helpers import RoomClient, room_client
from tests.support.openai_server import (
    OpenAIServer,
    Raw,
    Stall,
    Status,
    Text,
    ToolCall,
    ToolCalls,
    openai_server,
)
from tests.support.sandbox import LiveSandbox, start_sandbox
from tests.support.servers import free_port, wait_for

API_KEY = "sk-test-secret-1234567890"
SYSTEM_PROMPT = "You are Ada, a concise assistant."
PERSONA_CONTEXT = "The office opens at 9am."
CONVERSATION_CONTEXT = "The user's name is Sam."
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather in a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}
STARTED = "conversation.replica.started_speaking"
STOPPED = "conversation.replica.stopped_speaking"
STREAMING = "conversation.utterance.streaming"
UTTERANCE = "conversation.utterance"
LIMITS = CustomLLMLimits(read_timeout=1.0, max_stream_seconds=5.0, max_reply_chars=400)


@pytest.fixture
async def llm() -> AsyncIterator[OpenAIServer]:
    async with openai_server() as server:
        yield server


@pytest.fixture
async def live() -> AsyncIterator[LiveSandbox]:
    async with start_sandbox(words_per_second=200.0, llm_limits=LIMITS) as sandbox:
        yield sandbox


async def create_persona(live: LiveSandbox, base_url: str, **llm: Any) -> str:
    layer = {"model": "local-model", "base_url": base_url, "api_key": API_KEY, **llm}
    response = await live.api.post(
        "/v2/personas",
        json={
            "persona_name": "Ada",
            "default_replica_id": "r90bbd427f71",
            "system_prompt": SYSTEM_PROMPT,
            "context": PERSONA_CONTEXT,
            "layers": {"llm": layer},
        },
    )
    assert response.status_code == 200, response.text
    return str(response.json()["persona_id"])


class Call:
    """One conversation with an own-LLM persona, joined by a real WebSocket client."""

    def __init__(self, live: LiveSandbox, client: RoomClient, conversation_id: str) -> None:
        self.live = live
        self.client = client
        self.cid = conversation_id

    async def send(self, message: dict[str, Any]) -> None:
        await self.client.send(message)

    async def respond(self, text: str) -> None:
        await self.send(respond(self.cid, text).to_message())

    async def until(self, event_type: str, **match: Any) -> list[dict[str, Any]]:
        """Events up to the first of `event_type` whose properties hold `match`."""

        def last(event: dict[str, Any]) -> bool:
            props = event.get("properties") or {}
            return event["event_type"] == event_type and all(
                props.get(key) == value for key, value in match.items()
            )

        events = await self.client.events_until(last)
        for event in events:
            assert parse_event(event).conversation_id == self.cid
        return events

    async def turn(self) -> list[dict[str, Any]]:
        """The events up to the replica's stopping speaking."""
        return await self.until(STOPPED)


@pytest.fixture
async def call(live: LiveSandbox, llm: OpenAIServer) -> AsyncIterator[Call]:
    persona_id = await create_persona(live, llm.base_url, tools=[WEATHER_TOOL])
    created = await live.create(
        persona_id=persona_id,
        conversational_context=CONVERSATION_CONTEXT,
        custom_greeting="Hi, I'm Ada.",
    )
    cid = str(created["conversation_id"])
    async with room_client(live.root_url, cid) as client:
        conversation = Call(live, client, cid)
        await conversation.turn()  # the greeting
        yield conversation


def replica_utterances(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        e["properties"]
        for e in events
        if e["event_type"] == UTTERANCE and e["properties"]["role"] == "replica"
    ]


def assert_spoken_as_a_turn(events: list[dict[str, Any]], text: str) -> None:
    """started → streaming updates (the utterance among them, before the last) → stopped."""
    replica = [e for e in events if e["event_type"] in (STARTED, UTTERANCE, STREAMING, STOPPED)]
    replica = [e for e in replica if (e.get("properties") or {}).get("role") != "user"]
    kinds = [e["event_type"] for e in replica]
    assert kinds[0] == STARTED and kinds[-1] == STOPPED, kinds
    assert kinds.count(UTTERANCE) == 1 and kinds.count(STARTED) == 1, kinds
    streaming = [e["properties"] for e in replica if e["event_type"] == STREAMING]
    assert kinds.index(UTTERANCE) < len(kinds) - 2, "the utterance comes before the last update"
    assert [s["content_index"] for s in streaming] == list(range(len(streaming)))
    assert [s["final"] for s in streaming] == [False] * (len(streaming) - 1) + [True]
    assert streaming[-1]["speech"] == text
    assert replica_utterances(events)[0]["speech"] == text
    assert replica[-1]["properties"]["interrupted"] is False
    assert len({e["inference_id"] for e in replica}) == 1


# --- a streamed reply ---------------------------------------------------------------------------


async def test_a_streamed_reply_is_spoken_and_the_request_holds_prompt_context_history_tools(
    call: Call, llm: OpenAIServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    reply = "Hello Sam, the office opens at nine in the morning."
    llm.script(Text(reply, delay=0.02))
    await call.respond("When does the office open?")
    events = await call.turn()
    assert events[0]["event_type"] == "conversation.user.started_speaking"
    assert_spoken_as_a_turn(events, reply)
    # Spoken at the replica's pace, after the user's words.
    user = next(e for e in events if e["event_type"] == UTTERANCE)
    assert user["properties"] == {"role": "user", "speech": "When does the office open?"}

    (request,) = llm.requests
    assert request.authorization == f"Bearer {API_KEY}"
    assert request.body["model"] == "local-model"
    assert request.body["stream"] is True
    assert request.body["tools"] == [WEATHER_TOOL]
    system = request.system
    assert system.startswith(SYSTEM_PROMPT)
    assert PERSONA_CONTEXT in system and CONVERSATION_CONTEXT in system
    assert request.messages[1:] == [
        {"role": "assistant", "content": "Hi, I'm Ada."},
        {"role": "user", "content": "When does the office open?"},
    ]
    # The transcript and the next request keep the reply.
    llm.script(Text("You are welcome."))
    await call.respond("Thanks!")
    await call.turn()
    second = llm.requests[1]
    assert second.messages[-3:] == [
        {"role": "user", "content": "When does the office open?"},
        {"role": "assistant", "content": reply},
        {"role": "user", "content": "Thanks!"},
    ]
    assert API_KEY not in caplog.text


async def test_context_overwrite_and_append_reach_the_next_request(
    call: Call, llm: OpenAIServer
) -> None:
    await call.send(overwrite_context(call.cid, "The user is Kim, a pilot.").to_message())
    await call.respond("What do you know?")
    await call.turn()
    system = (await llm.wait_for_requests(1))[0].system
    assert system.startswith(SYSTEM_PROMPT)
    assert "The user is Kim, a pilot." in system
    assert CONVERSATION_CONTEXT not in system and PERSONA_CONTEXT not in system

    await call.send(append_context(call.cid, "Kim likes green tea.").to_message())
    await call.respond("And now?")
    await call.turn()
    system = (await llm.wait_for_requests(2))[1].system
    assert "The user is Kim, a pilot." in system and "Kim likes green tea." in system


# --- tools ----------------------------------------------------------------------------------------


async def test_a_tool_call_goes_to_the_app_and_its_result_back_to_the_model(
    call: Call, llm: OpenAIServer
) -> None:
    llm.script(
        ToolCalls([ToolCall("get_weather", {"city": "Paris"}, call_id="call_abc")]),
        Text("It is 18 degrees in Paris."),
    )
    await call.respond("What's the weather in Paris?")
    events = await call.until("conversation.tool_call")
    assert STARTED not in [e["event_type"] for e in events]  # nothing said before the call
    props = events[-1]["properties"]
    assert props["name"] == "get_weather" and props["tool_call_id"] == "call_abc"
    assert json.loads(props["arguments"]) == {"city": "Paris"}  # a JSON string, as Tavus's

    await call.send(tool_result(call.cid, "call_abc", {"temp_c": 18}).to_message())
    events = await call.turn()
    assert_spoken_as_a_turn(events, "It is 18 degrees in Paris.")

    first, second = await llm.wait_for_requests(2)
    assert first.messages[-1] == {"role": "user", "content": "What's the weather in Paris?"}
    assistant, tool = second.messages[-2:]
    assert assistant["role"] == "assistant"
    assert assistant["tool_calls"] == [
        {
            "id": "call_abc",
            "type": "function",
            "function": {"name": "get_weather", "arguments": json.dumps({"city": "Paris"})},
        }
    ]
    assert tool["role"] == "tool" and tool["tool_call_id"] == "call_abc"
    assert json.loads(tool["content"]) == {"temp_c": 18}
    assert second.body["tools"] == [WEATHER_TOOL]


async def test_text_before_a_tool_call_is_said_first_and_the_turn_speech_goes_on_after_it(
    call: Call, llm: OpenAIServer
) -> None:
    weather = ToolCall("get_weather", {"city": "Rome"}, call_id="call_rome")
    llm.script(ToolCalls([weather], text="Let me check."), Text("It is sunny in Rome."))
    await call.respond("Weather in Rome?")
    before = await call.until("conversation.tool_call")
    assert_spoken_as_a_turn(before, "Let me check.")
    await call.send(tool_result(call.cid, "call_rome", "sunny").to_message())
    after = await call.turn()
    # One inference: the second part's updates and utterance carry on from the first.
    whole = "Let me check. It is sunny in Rome."
    assert replica_utterances(after)[0]["speech"] == whole
    streaming = [e["properties"] for e in after if e["event_type"] == STREAMING]
    assert streaming[-1]["speech"] == whole and streaming[-1]["final"] is True
    first_index = [e["properties"] for e in before if e["event_type"] == STREAMING][-1]
    assert streaming[0]["content_index"] == first_index["content_index"] + 1
    assert {e["inference_id"] for e in after} == {before[-1]["inference_id"]}
    assistant = (await llm.wait_for_requests(2))[1].messages[-2]
    assert (
        assistant["content"] == "Let me check." and assistant["tool_calls"][0]["id"] == "call_rome"
    )
    # The transcript has each part once.
    replica = call.live.parts.runtime.replica(call.cid)
    assert replica is not None
    said = [entry.content for entry in replica.transcript if entry.role == "assistant"]
    assert said[-2:] == ["Let me check.", "It is sunny in Rome."]
    tools = [entry.content for entry in replica.transcript if entry.role == "tool"]
    assert tools == ["sunny"]


async def test_tool_rounds_are_bounded_in_a_turn(llm: OpenAIServer) -> None:
    async with start_sandbox(
        words_per_second=200.0, llm_limits=CustomLLMLimits(max_tool_rounds=1)
    ) as sandbox:
        persona_id = await create_persona(sandbox, llm.base_url, tools=[WEATHER_TOOL])
        cid = (await sandbox.create(persona_id=persona_id))["conversation_id"]
        async with room_client(sandbox.root_url, cid) as client:
            conversation = Call(sandbox, client, cid)
            await conversation.turn()
            weather = ToolCall("get_weather", {"city": "Oslo"}, call_id=None)
            llm.script(ToolCalls([weather]), ToolCalls([weather]))
            await conversation.respond("Weather in Oslo?")
            call_event = (await conversation.until("conversation.tool_call"))[-1]
            call_id = call_event["properties"]["tool_call_id"]
            assert call_id.startswith("call_")  # the model gave none: one is made up
            await client.send(tool_result(cid, call_id, "rain").to_message())
            events = await conversation.turn()
            assert replica_utterances(events)[0]["speech"] == TOO_MANY_TOOL_ROUNDS
            assert "conversation.tool_call" not in [e["event_type"] for e in events]
            assert len(llm.requests) == 2


# --- failures ---------------------------------------------------------------------------------------


async def test_an_unreachable_endpoint_is_said_plainly_and_logged_without_the_key(
    live: LiveSandbox, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    persona_id = await create_persona(live, f"http://127.0.0.1:{free_port()}/v1")
    cid = (await live.create(persona_id=persona_id))["conversation_id"]
    async with room_client(live.root_url, cid) as client:
        conversation = Call(live, client, cid)
        await conversation.turn()
        for text in ("Hello?", "Are you there?"):  # the conversation goes on
            await conversation.respond(text)
            events = await conversation.turn()
            assert replica_utterances(events)[0]["speech"] == NOT_ANSWERING
    failures = [r for r in caplog.records if "LLM" in r.getMessage() and "failed" in r.getMessage()]
    assert failures and "unreachable" in failures[0].getMessage()
    assert failures[0].levelno == logging.WARNING
    assert API_KEY not in caplog.text


@pytest.mark.parametrize(
    ("reply", "logged", "said"),
    [
        (Status(500, '{"error": "boom"}'), "answered 500", NOT_ANSWERING),
        (Status(401, f'{{"error": "bad key {API_KEY}"}}'), "answered 401", NOT_ANSWERING),
        (Raw(["data: {not json"]), "malformed stream", NOT_ANSWERING),
        (Raw(['data: {"choices": []}']), "before `data: [DONE]`", NOT_ANSWERING),
        (Stall("Let me think."), "timed out", f"Let me think. {NOT_ANSWERING}"),
    ],
    ids=["status-500", "status-401", "not-json", "no-done", "stall"],
)
async def test_a_failing_model_is_said_plainly_and_the_conversation_goes_on(
    call: Call,
    llm: OpenAIServer,
    caplog: pytest.LogCaptureFixture,
    reply: Any,
    logged: str,
    said: str,
) -> None:
    caplog.set_level(logging.INFO)
    llm.script(reply, Text("I am back."))
    await call.respond("Hello?")
    events = await call.turn()
    assert_spoken_as_a_turn(events, said)
    assert logged in caplog.text
    assert API_KEY not in caplog.text  # not even when the server echoes it
    await call.respond("Again?")
    assert replica_utterances(await call.turn())[0]["speech"] == "I am back."
    # What the model said before it stalled stays in the conversation; the apology does not.
    history = llm.requests[1].messages
    assert NOT_ANSWERING not in json.dumps(history)
    if isinstance(reply, Stall):
        assert {"role": "assistant", "content": "Let me think."} in history


async def test_a_reply_is_cut_at_the_character_limit(call: Call, llm: OpenAIServer) -> None:
    words = " ".join(f"word{i}" for i in range(200))  # far more than 400 characters
    llm.script(Text(words))
    await call.respond("Talk a lot.")
    spoken = replica_utterances(await call.turn())[0]["speech"]
    assert 300 < len(spoken) <= LIMITS.max_reply_chars
    assert words.startswith(spoken) and spoken.split()[-1] in words.split()


# --- interrupts -------------------------------------------------------------------------------------


async def test_an_interrupt_mid_stream_stops_speaking_and_cancels_the_request(
    call: Call, llm: OpenAIServer
) -> None:
    llm.script(Text(" ".join(f"part{i}" for i in range(60)), delay=0.05))
    await call.respond("Tell me everything.")
    events = await call.until(STREAMING)
    await call.send(interrupt(call.cid).to_message())
    events = await call.until("conversation.replica_interrupted")
    kinds = [e["event_type"] for e in events]
    stopped = next(e for e in events if e["event_type"] == STOPPED)
    assert stopped["properties"]["interrupted"] is True
    last = [e for e in events if e["event_type"] == STREAMING][-1]["properties"]
    assert last["final"] is True and last["is_interrupted"] is True
    # The reply was not all known: its utterance says what had come, marked interrupted.
    (utterance,) = replica_utterances(events)
    assert utterance["interrupted"] is True and utterance["speech"].startswith("part0")
    assert kinds.index(UTTERANCE) < kinds.index(STOPPED)
    (request,) = llm.requests
    await wait_for(lambda: request.cancelled, what="the stream to be cancelled")
    assert not request.finished
    # Nothing more of the cut turn: the next thing said is the marker.
    await call.send(echo_text(call.cid, "Marker.").to_message())
    after = await call.turn()
    assert replica_utterances(after)[0]["speech"] == "Marker."
    assert {e["turn_idx"] for e in after} == {events[-1]["turn_idx"] + 1}
    # What was heard goes to the model with the next turn (the marker too: it was said).
    await call.respond("Sorry, go on.")
    await call.turn()
    history = llm.requests[1].messages
    assert history[-4]["role"] == "user" and history[-4]["content"] == "Tell me everything."
    assert history[-3]["role"] == "assistant" and history[-3]["content"].startswith("part0")
    assert history[-2:] == [
        {"role": "assistant", "content": "Marker."},
        {"role": "user", "content": "Sorry, go on."},
    ]


# --- the stream, piece by piece -------------------------------------------------------------------


async def _lines(*lines: str) -> AsyncIterator[str]:
    for line in lines:
        yield line


async def test_sse_events_end_at_blank_lines_and_done() -> None:
    chunks = [
        chunk
        async for chunk in parse_sse(
            _lines(
                ": a comment",
                "event: message",
                'data: {"choices": [{"delta":',
                'data: {"content": "Hello"}}]}',
                "",
                'data:{"choices": []}',
                "",
                "data: [DONE]",
                "",
                'data: {"choices": [{"delta": {"content": "never"}}]}',
                "",
            )
        )
    ]
    assert len(chunks) == 3 and chunks[-1] is None
    first = chunks[0]
    assert isinstance(first, ChatCompletionChunk) and first.choices[0].delta is not None
    assert first.choices[0].delta.content == "Hello"


async def test_an_error_event_is_a_failure() -> None:
    with pytest.raises(LLMError, match="reported an error"):
        async for _ in parse_sse(_lines('data: {"error": {"message": "overloaded"}}', "")):
            pass


def test_tool_call_fragments_are_assembled_by_index() -> None:
    assembler = ToolCallAssembler()
    assembler.feed(
        [
            ToolCallDelta.model_validate(
                {"index": 1, "id": "b", "function": {"name": "two", "arguments": ""}}
            ),
            ToolCallDelta.model_validate(
                {"index": 0, "id": "a", "function": {"name": "one", "arguments": '{"x"'}}
            ),
        ]
    )
    assembler.feed([ToolCallDelta.model_validate({"index": 0, "function": {"arguments": ": 1}"}})])
    one, two = assembler.calls()
    assert (one.id, one.function.name, one.arguments) == ("a", "one", {"x": 1})
    assert (two.id, two.function.name, two.arguments) == ("b", "two", {})
    bad = ToolCallAssembler()
    bad.feed([ToolCallDelta.model_validate({"function": {"name": "f", "arguments": "[1]"}})])
    with pytest.raises(LLMError, match="not a JSON object"):
        bad.calls()
