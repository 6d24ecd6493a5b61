"""A small OpenAI-compatible chat completions server for tests, with scripted replies.

`openai_server()` serves it with uvicorn on a free 127.0.0.1 port in this event loop; point a
persona's `layers.llm.base_url` at `server.base_url` (`http://127.0.0.1:PORT/v1`). Each
`POST /v1/chat/completions` takes the next scripted reply (`server.script(...)`; `Text("OK.")`
when none is left) and is recorded (`server.requests`: headers and JSON body), so tests can
assert the system prompt, context, history, tools and bearer key the replica sent.

Replies: `Text` (streamed in several chunks, optionally slowly; `at_once` writes the whole
stream in one go), `ToolCalls` (a tool call streamed in fragments), `Status` (an error status),
`Stall` (some text, then silence), `Raw` (any lines, e.g. a malformed stream).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from tests.support.servers import serve, wait_for

__all__ = [
    "OpenAIServer",
    "Raw",
    "RecordedRequest",
    "Stall",
    "Status",
    "Text",
    "ToolCalls",
    "openai_server",
]

STALL_SECONDS = 30.0
"""Longest a stalled reply stays silent (it ends sooner when the client goes away)."""


@dataclass(frozen=True)
class Text:
    """A text reply streamed in `chunks` (split in words when one string is given)."""

    text: str | Sequence[str]
    delay: float = 0.0
    """Seconds between two chunks."""
    at_once: bool = False
    """Write the whole stream in one go (the client gets it in one read)."""

    def pieces(self) -> list[str]:
        if isinstance(self.text, str):
            words = self.text.split(" ")
            return [word if i == 0 else f" {word}" for i, word in enumerate(words)]
        return list(self.text)


@dataclass(frozen=True)
class ToolCall:
    """One tool call of a `ToolCalls` reply."""

    name: str
    arguments: dict[str, Any]
    call_id: str | None = "call_1"


@dataclass(frozen=True)
class ToolCalls:
    """Tool calls streamed in fragments (the arguments in several pieces), after `text`."""

    calls: Sequence[ToolCall]
    text: str = ""
    at_once: bool = False


@dataclass(frozen=True)
class Status:
    """An error answer."""

    status: int
    body: str = '{"error": {"message": "scripted failure"}}'


@dataclass(frozen=True)
class Stall:
    """Stream `text`, then say nothing more (until the client gives up)."""

    text: str = "Let me think."


@dataclass(frozen=True)
class Raw:
    """Exactly these lines of an event stream (each followed by a blank line)."""

    lines: Sequence[str]


Reply = Text | ToolCalls | Status | Stall | Raw


@dataclass
class RecordedRequest:
    """One request the server got."""

    headers: dict[str, str]
    body: dict[str, Any]
    finished: bool = False
    """Whether the whole scripted stream was sent."""
    cancelled: bool = False
    """Whether the client went away before the stream ended."""

    @property
    def authorization(self) -> str | None:
        return self.headers.get("authorization")

    @property
    def messages(self) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = self.body.get("messages", [])
        return messages

    @property
    def system(self) -> str:
        return str(self.messages[0]["content"]) if self.messages[0]["role"] == "system" else ""


@dataclass
class OpenAIServer:
    """The scripted server's state: its address once served, the script, what it received."""

    base_url: str = ""
    requests: list[RecordedRequest] = field(default_factory=list)
    _script: list[Reply] = field(default_factory=list)
    _released: asyncio.Event = field(default_factory=asyncio.Event)

    def script(self, *replies: Reply) -> None:
        """Queue replies for the next requests, in order."""
        self._script.extend(replies)

    async def wait_for_requests(self, count: int) -> list[RecordedRequest]:
        """Wait until `count` requests came; return them all."""
        await wait_for(lambda: len(self.requests) >= count, what=f"{count} LLM requests")
        return self.requests

    def release(self) -> None:
        """End every stalled reply now (the server is about to stop)."""
        self._released.set()

    def app(self) -> Starlette:
        async def completions(request: Request) -> Response:
            body = await request.json()
            record = RecordedRequest(headers=dict(request.headers), body=body)
            self.requests.append(record)
            reply = self._script.pop(0) if self._script else Text("OK.")
            if isinstance(reply, Status):
                return Response(reply.body, status_code=reply.status, media_type="application/json")
            model = str(body.get("model") or "scripted")
            if getattr(reply, "at_once", False):
                events = "".join(_events(reply, model))
                record.finished = True
                return Response(events, media_type="text/event-stream")
            return StreamingResponse(
                self._stream(reply, model, record), media_type="text/event-stream"
            )

        async def models(_: Request) -> JSONResponse:
            return JSONResponse({"object": "list", "data": [{"id": "scripted", "object": "model"}]})

        return Starlette(
            routes=[
                Route("/v1/chat/completions", completions, methods=["POST"]),
                Route("/v1/models", models, methods=["GET"]),
            ]
        )

    async def _stream(
        self, reply: Reply, model: str, record: RecordedRequest
    ) -> AsyncIterator[str]:
        try:
            delay = reply.delay if isinstance(reply, Text) else 0.0
            for index, event in enumerate(_events(reply, model)):
                if index and delay:
                    await asyncio.sleep(delay)
                yield event
            if isinstance(reply, Stall):
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._released.wait(), STALL_SECONDS)
                return
            record.finished = True
        except asyncio.CancelledError:
            record.cancelled = True
            raise
        finally:
            if not record.finished:
                record.cancelled = True


def _events(reply: Reply, model: str) -> list[str]:
    """The `data:` events of a scripted reply (a stall's first part; no `[DONE]` for it)."""
    created = int(time.time())

    def chunk(delta: dict[str, Any], finish: str | None = None) -> str:
        body = {
            "id": "chatcmpl-scripted",
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }
        return f"data: {json.dumps(body)}\n\n"

    done = "data: [DONE]\n\n"
    if isinstance(reply, Raw):
        return [f"{line}\n\n" for line in reply.lines]
    if isinstance(reply, Stall):
        return [chunk({"role": "assistant", "content": ""}), chunk({"content": reply.text})]
    if isinstance(reply, Text):
        pieces = [chunk({"content": piece}) for piece in reply.pieces()]
        return [chunk({"role": "assistant", "content": ""}), *pieces, chunk({}, "stop"), done]
    if isinstance(reply, ToolCalls):
        events = [chunk({"role": "assistant", "content": reply.text or None})]
        for index, call in enumerate(reply.calls):
            arguments = json.dumps(call.arguments)
            head: dict[str, Any] = {
                "index": index,
                "type": "function",
                "function": {"name": call.name, "arguments": ""},
            }
            if call.call_id is not None:
                head["id"] = call.call_id
            events.append(chunk({"tool_calls": [head]}))
            middle = max(len(arguments) // 2, 1)
            for part in (arguments[:middle], arguments[middle:]):
                if part:
                    fragment = {"index": index, "function": {"arguments": part}}
                    events.append(chunk({"tool_calls": [fragment]}))
        return [*events, chunk({}, "tool_calls"), done]
    raise TypeError(f"not a streamed reply: {reply!r}")


@contextlib.asynccontextmanager
async def openai_server() -> AsyncIterator[OpenAIServer]:
    """A scripted OpenAI-compatible server on a free port, in this event loop."""
    server = OpenAIServer()
    async with serve(server.app()) as url:
        server.base_url = f"{url}/v1"
        try:
            yield server
        finally:
            server.release()
            await asyncio.sleep(0)  # let released streams end before the server stops
