"""Conformance table: for each interaction, the exact sequence of events the sandbox emits.

Each row is checked over a real WebSocket client against the real sandbox app (REST, rooms and
simulated replica under uvicorn on a free port). The same table, rendered, is
`cvi_app/sandbox/CONFORMANCE.md`; a test fails when the two differ. To rewrite the file after
changing the table: `.venv/bin/python -m tests.sandbox.test_conformance`.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
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
    tool_result,
)
from cvi_app.sandbox.catalog import PERCEPTION_PERSONA_ID, SUPPORT_PERSONA_ID
from cvi_app.sandbox.custom_llm import NOT_ANSWERING
from tests.sandbox.helpers import RoomClient, room_client
from tests.sandbox.openapi_doc import DIFFERENCES, SERVED, load_document
from tests.support.openai_server import Reply, Text, ToolCall, ToolCalls, openai_server
from tests.support.sandbox import LiveSandbox, start_sandbox
from tests.support.servers import free_port

DOC = Path(__file__).resolve().parents[2] / "cvi_app/sandbox/CONFORMANCE.md"
WORDS_PER_SECOND = 100.0  # fast, yet the long story lasts long enough to be interrupted

STARTED = "conversation.replica.started_speaking"
STOPPED = "conversation.replica.stopped_speaking"
USER_UTTERANCE = "conversation.utterance [user]"
HEARD = (
    "conversation.user.started_speaking",
    "conversation.user.stopped_speaking",
    USER_UTTERANCE,
)
REPLICA_UTTERANCE = "conversation.utterance [replica]"
STREAMING = "conversation.utterance.streaming [replica]"
STREAMING_RUN = f"{STREAMING} +"
REPLY = (STARTED, REPLICA_UTTERANCE, STREAMING_RUN, STOPPED)
CUT_SHORT = (
    *HEARD,
    STARTED,
    REPLICA_UTTERANCE,
    STREAMING_RUN,
    f"{STOPPED} (interrupted)",
    f"{STREAMING} (final, interrupted)",
    "conversation.replica_interrupted",
)


def label(event: dict[str, Any]) -> str:
    """How an event appears in the table: its type, the role of utterances, interruptions."""
    name: str = event["event_type"]
    props = event.get("properties") or {}
    if name.startswith("conversation.utterance"):
        name += f" [{props['role']}]"
    if name.startswith("conversation.utterance.streaming") and props.get("is_interrupted"):
        name += " (final, interrupted)"
    if name.startswith("conversation.utterance [") and props.get("interrupted"):
        name += " (interrupted)"
    if name.endswith("stopped_speaking") and props.get("interrupted"):
        name += " (interrupted)"
    return name


def collapse(labels: list[str]) -> list[str]:
    """Runs of plain streaming updates become one `... +` (one or more)."""
    out: list[str] = []
    for name in labels:
        name = STREAMING_RUN if name == STREAMING else name
        if not (out and out[-1] == name == STREAMING_RUN):
            out.append(name)
    return out


class Recorder:
    """Reads the room as one participant and keeps every event the replica sent."""

    def __init__(self, client: RoomClient) -> None:
        self.client = client
        self.events: list[dict[str, Any]] = []

    async def until(self, wanted: str, *, count: int = 1) -> dict[str, Any]:
        """Read events up to the `count`-th (from now) whose label is `wanted`."""
        seen = 0
        while True:
            event = await self.client.next_event()
            self.events.append(event)
            if label(event) == wanted:
                seen += 1
                if seen == count:
                    return event


@dataclass
class Context:
    live: LiveSandbox
    conversation_id: str
    client: RoomClient
    record: Recorder
    checks: list[str] = field(default_factory=list)

    async def send(self, message: dict[str, Any]) -> None:
        await self.client.send(message)


Act = Callable[[Context], Awaitable[None]]


@dataclass(frozen=True)
class Row:
    interaction: str
    sent: str
    expected: tuple[str, ...]
    act: Act | None = None
    persona_id: str | None = None
    context: str | None = None
    note: str = ""
    llm: tuple[Reply, ...] | None = None
    """The persona names its own LLM: a scripted OpenAI-compatible server giving these replies."""
    llm_down: bool = False
    """The persona names its own LLM at an address where nothing answers."""


async def _respond(ctx: Context, text: str) -> None:
    await ctx.send(respond(ctx.conversation_id, text).to_message())


async def act_respond(ctx: Context) -> None:
    await _respond(ctx, "Hello, how are you?")


async def act_user_speech(ctx: Context) -> None:
    await ctx.client.say("Hello, how are you?", ctx.conversation_id)


async def act_echo_text(ctx: Context) -> None:
    await ctx.send(echo_text(ctx.conversation_id, "Exactly these words.").to_message())


async def act_echo_audio(ctx: Context) -> None:
    pcm = b"\x00\x00" * 24000  # one second at 24 kHz, more than one app-message
    for chunk in split_echo_audio(ctx.conversation_id, pcm, sample_rate=24000):
        await ctx.send(chunk.to_message())
    ctx.checks.append("[audio 1.0s]")


async def act_interrupt(ctx: Context) -> None:
    await _respond(ctx, "Tell me a long story")
    await ctx.record.until(STREAMING)
    await ctx.send(interrupt(ctx.conversation_id).to_message())


async def act_respond_during_turn(ctx: Context) -> None:
    await _respond(ctx, "Tell me a long story")
    await ctx.record.until(STREAMING)
    await _respond(ctx, "Hello again")


async def act_interrupt_idle(ctx: Context) -> None:
    await ctx.send(interrupt(ctx.conversation_id).to_message())
    await ctx.send(echo_text(ctx.conversation_id, "Marker.").to_message())


async def act_ask_name(ctx: Context) -> None:
    await _respond(ctx, "What is my name?")
    ctx.checks.append("Your name is Sam.")


async def act_tell_then_ask(ctx: Context) -> None:
    await _respond(ctx, "My name is Kim.")
    await ctx.record.until(STOPPED)
    await _respond(ctx, "What is my name?")
    ctx.checks.append("Your name is Kim.")


async def act_overwrite(ctx: Context) -> None:
    await ctx.send(overwrite_context(ctx.conversation_id, "The user is Sam.").to_message())
    await _respond(ctx, "What do you know?")
    ctx.checks.append("Sam")


async def act_append(ctx: Context) -> None:
    await ctx.send(append_context(ctx.conversation_id, "Sam likes green tea.").to_message())
    await _respond(ctx, "What do you know?")
    ctx.checks.append("green tea")


async def act_sensitivity(ctx: Context) -> None:
    for message in sensitivity(ctx.conversation_id, pause="high", interrupt="low"):
        await ctx.send(message.to_message())
    await ctx.send(echo_text(ctx.conversation_id, "Marker.").to_message())


async def act_invalid(ctx: Context) -> None:
    await ctx.send({"message_type": "conversation", "event_type": "conversation.dance"})
    await ctx.send(echo_text(ctx.conversation_id, "Marker.").to_message())


async def act_tool_call(ctx: Context) -> None:
    await _respond(ctx, "What's the weather in Paris?")
    call = await ctx.record.until("conversation.tool_call")
    call_id = call["properties"]["tool_call_id"]
    result = tool_result(ctx.conversation_id, call_id, {"temp_c": 18})
    await ctx.send(result.to_message())
    ctx.checks.append("temp_c: 18")


async def act_own_llm_tool_call(ctx: Context) -> None:
    await _respond(ctx, "What's the weather in Paris?")
    call = await ctx.record.until("conversation.tool_call")
    assert call["properties"]["tool_call_id"] == "call_1"
    result = tool_result(ctx.conversation_id, "call_1", {"temp_c": 18})
    await ctx.send(result.to_message())
    ctx.checks.append("It is 18 degrees in Paris.")


async def act_own_llm_down(ctx: Context) -> None:
    await act_respond(ctx)
    ctx.checks.append(NOT_ANSWERING)


async def act_own_llm_interrupt(ctx: Context) -> None:
    await _respond(ctx, "Tell me everything.")
    await ctx.record.until(STREAMING)
    await ctx.send(interrupt(ctx.conversation_id).to_message())


async def act_end(ctx: Context) -> None:
    response = await ctx.live.api.post(f"/v2/conversations/{ctx.conversation_id}/end")
    assert response.status_code == 200


MARKER = 'then `conversation.echo` "Marker." (its turn shows nothing came before it)'
OWN_LLM = "persona with its own LLM (`layers.llm.base_url`)"
OWN_WEATHER = ToolCall("get_weather", {"city": "Paris"}, call_id="call_1")

TABLE: list[Row] = [
    Row("Greeting on join", "a participant joins the room", REPLY),
    Row(
        "Respond",
        "`conversation.respond`",
        (*HEARD, *REPLY),
        act_respond,
        note="The user speaks the typed words first, at the replica's pace (at most 3 s), as a "
        "call hears speech.",
    ),
    Row(
        "User speech (sandbox call view)",
        "`sandbox.user_speech` app-message",
        (*HEARD, *REPLY),
        act_user_speech,
    ),
    Row(
        "Conversation context, then a question",
        'created with `conversational_context` "The user\'s name is Sam.", then '
        '`conversation.respond` "What is my name?"',
        (*HEARD, *REPLY),
        act_ask_name,
        context="The user's name is Sam.",
        note='The answer reads "Your name is Sam." from the context.',
    ),
    Row(
        "The user's own words, then a question",
        '`conversation.respond` "My name is Kim.", then "What is my name?"',
        (*HEARD, *REPLY, *HEARD, *REPLY),
        act_tell_then_ask,
        note='The replica remembers what the user said: "Your name is Kim."',
    ),
    Row("Echo (text)", "`conversation.echo` modality text", REPLY, act_echo_text),
    Row(
        "Echo (audio)",
        "`conversation.echo` modality audio, several chunks, `done` on the last",
        REPLY,
        act_echo_audio,
        note="Spoken once all chunks arrived, for as long as the audio lasts; the utterance "
        'reads "[audio 1.0s]".',
    ),
    Row(
        "Interrupt during a turn",
        "`conversation.respond`, then `conversation.interrupt` while speaking",
        CUT_SHORT,
        act_interrupt,
    ),
    Row(
        "Respond during a turn",
        "`conversation.respond`, then another `conversation.respond` while speaking",
        (*CUT_SHORT, *HEARD, *REPLY),
        act_respond_during_turn,
        note="One turn at a time: the new turn interrupts the one in progress.",
    ),
    Row(
        "Interrupt with nothing in progress",
        f"`conversation.interrupt`, {MARKER}",
        REPLY,
        act_interrupt_idle,
    ),
    Row(
        "Overwrite context, then respond",
        '`conversation.overwrite_llm_context`, then `conversation.respond` "What do you know?"',
        (*HEARD, *REPLY),
        act_overwrite,
        note="The context change emits nothing; the answer reads back the new context.",
    ),
    Row(
        "Append context, then respond",
        '`conversation.append_llm_context`, then `conversation.respond` "What do you know?"',
        (*HEARD, *REPLY),
        act_append,
        note="The answer holds both the persona's context and the appended text.",
    ),
    Row(
        "Sensitivity",
        f"`conversation.sensitivity` (pause, then interrupt), {MARKER}",
        REPLY,
        act_sensitivity,
        note="Emits nothing; the levels are recorded on the replica.",
    ),
    Row(
        "Invalid interaction",
        f"an unknown `event_type`, {MARKER}",
        REPLY,
        act_invalid,
        note="Logged and ignored; the replica carries on.",
    ),
    Row(
        "Tool call and tool result",
        '`conversation.respond` "What\'s the weather in Paris?", then `conversation.tool_result`',
        (*HEARD, "conversation.tool_call", *REPLY),
        act_tool_call,
        persona_id=SUPPORT_PERSONA_ID,
        note='Support Agent persona; `arguments` is the JSON string `{"city": "Paris"}`.',
    ),
    Row(
        "Respond (own LLM)",
        f"`conversation.respond` to a {OWN_LLM}; the model streams its reply",
        (*HEARD, *REPLY),
        act_respond,
        llm=(Text("Hello from your own model, how can I help?", at_once=True),),
        note="The replica POSTs `{base_url}/chat/completions` (`stream: true`) and speaks the "
        "reply as it streams in: speaking starts with its first words; the utterance comes as "
        "soon as the whole reply is known (here at once; from a slower stream, among the "
        "streaming updates, always before the last). See `docs/custom_llm.md`.",
    ),
    Row(
        "Tool call and tool result (own LLM)",
        f"`conversation.respond` to a {OWN_LLM}, the model streams a tool call; then "
        "`conversation.tool_result`",
        (*HEARD, "conversation.tool_call", *REPLY),
        act_own_llm_tool_call,
        llm=(
            ToolCalls([OWN_WEATHER], at_once=True),
            Text("It is 18 degrees in Paris.", at_once=True),
        ),
        note="The model's `tool_calls` become `conversation.tool_call` (its call `id` as "
        "`tool_call_id`); the result goes back to it as a `tool` message and its next reply "
        "is spoken (at most 5 tool rounds a turn).",
    ),
    Row(
        "Own LLM not answering",
        f"`conversation.respond` to a {OWN_LLM} where nothing listens",
        (*HEARD, *REPLY),
        act_own_llm_down,
        llm_down=True,
        note=f'The replica says "{NOT_ANSWERING}"; the details go to the sandbox\'s log (never '
        "the key). The same for a non-2xx answer, a malformed stream or a timeout.",
    ),
    Row(
        "Interrupt during a streamed reply (own LLM)",
        f"`conversation.respond` to a {OWN_LLM}, then `conversation.interrupt` while it "
        "speaks and the model still streams",
        (
            *HEARD,
            STARTED,
            STREAMING_RUN,
            f"{REPLICA_UTTERANCE} (interrupted)",
            f"{STOPPED} (interrupted)",
            f"{STREAMING} (final, interrupted)",
            "conversation.replica_interrupted",
        ),
        act_own_llm_interrupt,
        llm=(Text(" ".join(f"part{i}" for i in range(60)), delay=0.05),),
        note="The HTTP stream is cancelled. The reply was not all known: its utterance holds "
        "what had come so far, with `interrupted: true`.",
    ),
    Row(
        "End",
        "`POST /v2/conversations/{id}/end`",
        ("system.shutdown",),
        act_end,
        note="`shutdown_reason` `end_conversation_endpoint_hit`; then a `room-closed` frame.",
    ),
    Row(
        "End (perception persona)",
        "`POST /v2/conversations/{id}/end`",
        ("conversation.perception_analysis", "system.shutdown"),
        act_end,
        persona_id=PERCEPTION_PERSONA_ID,
        note="Vision Guide persona (perception on).",
    ),
]


def render() -> str:
    """The table as CONFORMANCE.md."""
    lines = [
        "# Sandbox conformance: the events the simulated replica sends",
        "",
        "For each interaction, the exact sequence of events (`event_type`) the sandbox emits as",
        "app-messages to everyone in the room. Generated from, and checked by,",
        "`tests/sandbox/test_conformance.py` over a real WebSocket client against the real",
        "sandbox server. Notation: `[role]` is `properties.role`; `+` means one or more",
        "(one streaming update per few words); `(interrupted)` marks `interrupted: true`;",
        "`(final, interrupted)` marks the last streaming update of a turn cut short",
        "(`final: true`, `is_interrupted: true`).",
        "",
        "Every event carries `conversation_id`, a `seq` that grows by one per event of the",
        "conversation, and a Unix `timestamp`; the events of a turn share its `turn_idx` (the",
        "greeting is turn 0; each respond, user speech or echo starts the next) and its",
        "`inference_id` (an echo keeps the `inference_id` it was sent with). The replica's",
        "`conversation.utterance` holds the full intended reply and is sent when it starts",
        "speaking; streaming updates carry the cumulative speech with `content_index` 0, 1, 2…",
        "and `final: true` on the last. `system.replica_joined` is sent when the replica joins",
        "the room (before anyone else is there) and as a webhook. With `--twins`, every",
        "replica-side event is followed by its newer twin (`conversation.started_speaking` /",
        "`conversation.stopped_speaking` with role `pal`, utterances with role `pal`,",
        "`system.pal_joined`).",
        "",
        "Every user turn, typed (`conversation.respond`) or spoken, opens with the user speaking",
        "(`conversation.user.started_speaking` / `stopped_speaking`, for as long as saying the",
        "words takes at the replica's pace, at most 3 s) and their `conversation.utterance`. What",
        "the replica answers comes from fixed rules (`cvi_app/sandbox/responder.py`) over its",
        "context (the persona's `context`, the conversation's `conversational_context`, then",
        "`overwrite_llm_context` / `append_llm_context`) and what the user said earlier: it",
        'answers "What is my name?" from "My name is ..." or the context, repeats facts it was',
        "given, and otherwise says what it heard and what it knows. A persona whose",
        "`layers.llm` names a `base_url` is answered by that model instead (an OpenAI-compatible",
        "endpoint, streamed: `cvi_app/sandbox/custom_llm.py`, `docs/custom_llm.md`); the rows",
        'marked "own LLM" show it.',
        "",
        "| Interaction | What is sent | Events emitted, in order | Notes |",
        "|---|---|---|---|",
    ]
    for row in TABLE:
        events = "<br>".join(f"`{name}`" for name in row.expected)
        lines.append(f"| {row.interaction} | {row.sent} | {events} | {row.note} |")
    lines += [
        "",
        "When the conversation ends the room sends `room-closed` and closes every connection;",
        "webhooks follow: `system.shutdown` (`shutdown_reason`), `application.transcription_ready`",
        "(the transcript: `system`, `user`, `assistant` and `tool` entries) and, with perception",
        "on, `application.perception_analysis`. Timers end a conversation with Tavus's reasons:",
        "`max_call_duration reached`, `participant_absent_timeout reached`,",
        "`participant_left_timeout reached`.",
        "",
        *_rest_section(),
    ]
    return "\n".join(lines)


def _rest_section() -> list[str]:
    """What CONFORMANCE.md says of the REST API against Tavus's OpenAPI document."""
    document = load_document()
    served = [f"`{m.upper()} {path}`" for path, methods in SERVED.items() for m in methods]
    others = [
        f"`{m.upper()} {path}`"
        for path, item in document["paths"].items()
        for m in item
        if m in ("get", "post", "patch", "delete") and m not in SERVED.get(path, ())
    ]
    return [
        "## The REST API against Tavus's OpenAPI document",
        "",
        "`tests/sandbox/test_openapi.py` generates requests from Tavus's published OpenAPI",
        "document (a copy in `tests/sandbox/fixtures/tavus-openapi.yml`) for every operation the",
        "sandbox serves and sends them to the real sandbox over HTTP: valid requests are accepted",
        "and answered in the documented shapes, invalid ones get a 4xx in Tavus's error shape",
        '(`{"error": ...}`; `{"message": ...}` for 401 and 422), none gets a 5xx. Every request',
        "example of the document works verbatim, with its ids: the persona `pcb7a34da5fe` (Life",
        "Coach) and the replicas `r90bbd427f71` (Rio) and `rf4e9d9790f0` (Nova) exist in every",
        "sandbox.",
        "",
        "Served: " + ", ".join(served) + "; and the same persona and replica operations under",
        "their newer names, `/v2/pals` and `/v2/faces` (with `pal_id`, `pal_name`,",
        "`default_face_id`, `pal_type`, `face_id`, `face_name`, `face_type`), which the document",
        "does not list.",
        "",
        "Not served (404 or 405): " + ", ".join(others) + ".",
        "",
        "Where the document leaves the answer open:",
        "",
        "- `limit` and `page` take any integer; below 1 they mean the defaults (10 a page, the",
        "  first page), as Tavus's own CLI relies on when it sends `page=0`.",
        "- A `status` other than `active` or `ended` lists no conversation; `replica_ids`",
        "  (comma-separated) and `model_name` filter the replicas.",
        "- Boolean query parameters (`verbose`, `hard`) take `true` or `false`; enum parameters",
        "  (`persona_type`, `replica_type`) only their values; anything else gets 400.",
        "- A request body the document does not require may be left out (`{}` is assumed); an",
        "  explicit `null` for a field is refused (400): no field is documented as nullable.",
        "- `GET /v2/conversations/{id}?verbose=true` adds `events`: the webhooks the",
        "  conversation sent (`system.replica_joined`, `system.shutdown`,",
        "  `application.transcription_ready`, ...) with ISO 8601 timestamps; the in-room events",
        "  are only in the room.",
        "",
        "Where the sandbox differs from the document:",
        "",
        *(f"- {difference}" for difference in DIFFERENCES),
        "",
    ]


@pytest.fixture
async def live() -> AsyncIterator[LiveSandbox]:
    async with start_sandbox(words_per_second=WORDS_PER_SECOND) as sandbox:
        yield sandbox


@pytest.mark.parametrize("row", TABLE, ids=[row.interaction for row in TABLE])
async def test_interaction_emits_exactly_the_events_in_the_table(
    live: LiveSandbox, row: Row
) -> None:
    async with contextlib.AsyncExitStack() as stack:
        persona_id = row.persona_id
        if row.llm is not None or row.llm_down:
            base_url = f"http://127.0.0.1:{free_port()}/v1"
            if row.llm is not None:
                server = await stack.enter_async_context(openai_server())
                server.script(*row.llm)
                base_url = server.base_url
            persona_id = await _own_llm_persona(live, base_url)
        await _check_row(live, row, persona_id)


async def _own_llm_persona(live: LiveSandbox, base_url: str) -> str:
    weather = {
        "type": "function",
        "function": {
            "name": "get_weather",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        },
    }
    llm = {"model": "local-model", "base_url": base_url, "api_key": "sk-local", "tools": [weather]}
    body = {
        "persona_name": "Own LLM",
        "system_prompt": "You are a concise assistant.",
        "default_replica_id": "r90bbd427f71",
        "layers": {"llm": llm},
    }
    response = await live.api.post("/v2/personas", json=body)
    assert response.status_code == 200, response.text
    return str(response.json()["persona_id"])


async def _check_row(live: LiveSandbox, row: Row, persona_id: str | None) -> None:
    body: dict[str, Any] = {"custom_greeting": "Hi, I'm your sandbox replica."}
    if persona_id:
        body["persona_id"] = persona_id
    if row.context:
        body["conversational_context"] = row.context
    cid = (await live.create(**body))["conversation_id"]
    async with room_client(live.root_url, cid) as client:
        recorder = Recorder(client)
        if row.act is not None:
            await recorder.until(STOPPED)  # the greeting, checked by its own row
            recorder.events.clear()
            ctx = Context(live, cid, client, recorder)
            await row.act(ctx)
        else:
            ctx = Context(live, cid, client, recorder)
        final = row.expected[-1]
        count = row.expected.count(final) - sum(label(e) == final for e in recorder.events)
        if count > 0:
            await recorder.until(final, count=count)
        events = recorder.events
        assert collapse([label(event) for event in events]) == list(row.expected)
        for event in events:
            parsed = parse_event(event)
            assert parsed.conversation_id == cid
        seqs = [event["seq"] for event in events]
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
        spoken = " ".join(
            e["properties"]["speech"] for e in events if label(e) == REPLICA_UTTERANCE
        )
        for expected_text in ctx.checks:
            assert expected_text in spoken
        if final == "system.shutdown":
            reason = events[-1]["properties"]["shutdown_reason"]
            assert reason == "end_conversation_endpoint_hit"
            assert (await client.recv_type("room-closed"))["reason"] == reason


def test_conformance_md_is_the_rendered_table() -> None:
    assert DOC.read_text(encoding="utf-8") == render(), (
        "CONFORMANCE.md is out of date: run .venv/bin/python -m tests.sandbox.test_conformance"
    )


if __name__ == "__main__":
    DOC.write_text(render(), encoding="utf-8")
