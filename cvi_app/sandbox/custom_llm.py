"""The persona's own LLM in the sandbox: an OpenAI-compatible chat completions endpoint.

A persona whose `layers.llm` names a `base_url` (with `model` and `api_key`) is answered by that
model, as Tavus's custom LLM layer is: for each user turn the simulated replica POSTs
`{base_url}/chat/completions` with `stream: true`, the system prompt (the persona's prompt and
the conversation's context as it stands), the conversation so far and the persona's tools, and
speaks the streamed reply. Tool calls the model streams are assembled here; the replica turns
them into `conversation.tool_call` events and sends the results back as `tool` messages.

Everything is bounded: the time to connect, the silence between two bytes of the stream, the
whole stream, the reply's length, one stream line, the tool calls and the history kept. Any
failure (unreachable, non-2xx, a malformed stream, a timeout) raises `LLMError` with a plain
message that never holds the API key.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import json
import logging
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from cvi_app.tavus.models import Persona

__all__ = [
    "NOT_ANSWERING",
    "TOO_MANY_TOOL_ROUNDS",
    "ChatCompletionChunk",
    "ChatMessage",
    "Completion",
    "CustomLLM",
    "CustomLLMConfig",
    "CustomLLMLimits",
    "LLMError",
    "ToolCall",
    "ToolCallAssembler",
    "parse_sse",
]

logger = logging.getLogger(__name__)

NOT_ANSWERING = "My language model is not answering right now."
"""What the replica says when the persona's LLM fails (the details go to the logs)."""
TOO_MANY_TOOL_ROUNDS = "I could not finish that with my tools."
"""What the replica says when the model keeps calling tools past the limit of one turn."""

MAX_LINE_BYTES = 1024 * 1024
"""Longest line of the event stream accepted (one chunk of a reply is far smaller)."""
MAX_TOOL_CALLS = 8
"""Tool calls accepted in one reply."""
MAX_TOOL_ARGUMENTS_CHARS = 32_000
"""Longest `arguments` JSON of one tool call."""
MAX_ERROR_BODY_CHARS = 500
"""How much of an error response's body is logged."""


@dataclass(frozen=True, slots=True)
class CustomLLMLimits:
    """The bounds of the conversation with a persona's own LLM.

    Attributes:
        connect_timeout: Seconds to open the connection.
        read_timeout: Seconds the stream may stay silent (a stalled model) before it fails.
        max_stream_seconds: Seconds one streamed reply may take, start to end.
        max_reply_chars: Characters of reply spoken in one turn (over all tool rounds); the
            stream is closed once they are reached and the reply ends there.
        max_tool_rounds: Rounds of tool calls in one turn; past them the model is not called again.
        max_history_messages: Messages of the conversation sent (the newest; the system prompt
            comes on top).
    """

    connect_timeout: float = 5.0
    read_timeout: float = 15.0
    max_stream_seconds: float = 60.0
    max_reply_chars: int = 3000
    max_tool_rounds: int = 5
    max_history_messages: int = 50


class LLMError(Exception):
    """The persona's LLM did not give a usable reply; the message says why, in plain words."""


# --- configuration ----------------------------------------------------------------------------


class CustomLLMConfig(BaseModel):
    """Where the persona's own LLM is and how to call it (from `layers.llm`).

    The API key is a `SecretStr`: it shows as `**********` in reprs and logs.
    """

    model_config = ConfigDict(frozen=True)

    base_url: str
    model: str | None = None
    api_key: SecretStr | None = None
    tools: list[dict[str, Any]] = Field(default_factory=list)
    headers: dict[str, str] = Field(default_factory=dict)
    extra_body: dict[str, Any] = Field(default_factory=dict)

    @classmethod
    def from_persona(cls, persona: Persona) -> CustomLLMConfig | None:
        """The persona's custom LLM, or None when `layers.llm` names no `base_url`."""
        layer = persona.layers.llm if persona.layers is not None else None
        if layer is None:
            return None
        extra = layer.model_extra or {}
        base_url = extra.get("base_url")
        if not isinstance(base_url, str) or not base_url.strip():
            return None
        api_key = extra.get("api_key")
        headers = extra.get("headers")
        extra_body = extra.get("extra_body")
        return cls(
            base_url=base_url.strip(),
            model=layer.model or None,
            api_key=SecretStr(api_key) if isinstance(api_key, str) and api_key else None,
            tools=[tool.model_dump(mode="json", exclude_none=True) for tool in layer.tools],
            headers={str(k): v for k, v in (headers or {}).items() if isinstance(v, str)}
            if isinstance(headers, dict)
            else {},
            extra_body=extra_body if isinstance(extra_body, dict) else {},
        )

    @property
    def endpoint(self) -> str:
        """`{base_url}/chat/completions`."""
        return f"{self.base_url.rstrip('/')}/chat/completions"

    @property
    def shown_endpoint(self) -> str:
        """The endpoint as logs show it: no user info, no query string."""
        try:
            url = httpx.URL(self.endpoint)
        except (httpx.InvalidURL, TypeError, ValueError):
            return "(an invalid URL)"
        return str(url.copy_with(userinfo=b"", query=None, fragment=None))


# --- messages ---------------------------------------------------------------------------------


class ToolCallFunction(BaseModel):
    """The function a tool call names, with its arguments as a JSON string."""

    name: str
    arguments: str = "{}"


class ToolCall(BaseModel):
    """One tool call of an assistant message (as the OpenAI API writes it)."""

    id: str
    type: Literal["function"] = "function"
    function: ToolCallFunction

    @property
    def arguments(self) -> dict[str, Any]:
        """The arguments as a dict (they were checked to be a JSON object when assembled)."""
        value = json.loads(self.function.arguments or "{}")
        return value if isinstance(value, dict) else {}


class ChatMessage(BaseModel):
    """One message of the conversation sent to the model."""

    role: Literal["system", "user", "assistant", "tool"]
    content: str = ""
    tool_calls: list[ToolCall] | None = None
    tool_call_id: str | None = None

    def wire(self) -> dict[str, Any]:
        """The message as the request body holds it."""
        return self.model_dump(mode="json", exclude_none=True)


# --- the stream -------------------------------------------------------------------------------


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore")


class FunctionDelta(_Lenient):
    """A fragment of a streamed tool call's function: its name, a piece of its arguments."""

    name: str | None = None
    arguments: str | None = None


class ToolCallDelta(_Lenient):
    """A fragment of a streamed tool call; fragments with the same `index` make one call."""

    index: int = Field(default=0, ge=0, lt=MAX_TOOL_CALLS)
    id: str | None = None
    type: str | None = None
    function: FunctionDelta | None = None


class ChunkDelta(_Lenient):
    """What one chunk adds to the reply."""

    role: str | None = None
    content: str | None = None
    tool_calls: list[ToolCallDelta] | None = None


class ChunkChoice(_Lenient):
    """One choice of a chunk (the sandbox reads the first)."""

    index: int = 0
    delta: ChunkDelta | None = None
    finish_reason: str | None = None


class ChatCompletionChunk(_Lenient):
    """One `data: {...}` event of a streamed chat completion."""

    id: str | None = None
    choices: list[ChunkChoice] = Field(default_factory=list)
    error: Any = None


class ToolCallAssembler:
    """Builds whole tool calls from streamed fragments, by `index`."""

    def __init__(self) -> None:
        self._ids: dict[int, str] = {}
        self._names: dict[int, str] = {}
        self._arguments: dict[int, list[str]] = {}
        self._sizes: dict[int, int] = {}

    def feed(self, deltas: Iterable[ToolCallDelta]) -> None:
        """Take the tool-call fragments of one chunk.

        Raises:
            LLMError: A call's arguments grow past `MAX_TOOL_ARGUMENTS_CHARS`.
        """
        for delta in deltas:
            index = delta.index
            self._arguments.setdefault(index, [])
            if delta.id:
                self._ids[index] = delta.id
            function = delta.function
            if function is None:
                continue
            if function.name:
                # Most servers send the name once; some repeat it on every fragment.
                self._names[index] = function.name
            if function.arguments:
                size = self._sizes.get(index, 0) + len(function.arguments)
                if size > MAX_TOOL_ARGUMENTS_CHARS:
                    raise LLMError(
                        f"tool call {index} has arguments over {MAX_TOOL_ARGUMENTS_CHARS} characters"
                    )
                self._sizes[index] = size
                self._arguments[index].append(function.arguments)

    def calls(self) -> list[ToolCall]:
        """The calls, in index order; an id is made up for a call the server gave none.

        Raises:
            LLMError: A call has no name, or arguments that are not a JSON object.
        """
        calls = []
        for index in sorted(self._arguments):
            name = self._names.get(index)
            if not name:
                raise LLMError(f"tool call {index} has no function name")
            arguments = "".join(self._arguments[index]).strip() or "{}"
            try:
                parsed = json.loads(arguments)
            except ValueError as exc:
                raise LLMError(f"tool call {name} has arguments that are not JSON: {exc}") from exc
            if not isinstance(parsed, dict):
                raise LLMError(f"tool call {name} has arguments that are not a JSON object")
            call_id = self._ids.get(index) or f"call_{uuid.uuid4().hex[:12]}"
            calls.append(
                ToolCall(id=call_id, function=ToolCallFunction(name=name, arguments=arguments))
            )
        return calls


async def parse_sse(lines: AsyncIterator[str]) -> AsyncGenerator[ChatCompletionChunk | None, None]:
    """The chunks of a Server-Sent Events stream of `data: {...}` events, then None at `[DONE]`.

    Events end at a blank line (several `data:` lines of one event are joined with newlines, as
    the SSE format has it); comments (`:`) and other fields are skipped. `data: [DONE]` yields
    None and ends the stream; a stream that ends without it simply stops.

    Raises:
        LLMError: An event is not a chunk (not JSON, wrong shape), or it carries an `error`.
    """
    data: list[str] = []
    async for line in lines:
        if line.startswith(":"):
            continue
        if line:
            field, _, value = line.partition(":")
            if field == "data":
                data.append(value[1:] if value.startswith(" ") else value)
            continue
        if data:
            payload, data = "\n".join(data), []
            if payload.strip() == "[DONE]":
                yield None
                return
            yield _chunk(payload)
    if data:
        payload = "\n".join(data)
        if payload.strip() == "[DONE]":
            yield None
            return
        yield _chunk(payload)


def _chunk(payload: str) -> ChatCompletionChunk:
    try:
        chunk = ChatCompletionChunk.model_validate_json(payload)
    except ValidationError as exc:
        shown = payload if len(payload) <= 200 else payload[:200] + "…"
        raise LLMError(f"malformed stream: {shown!r} is not a chat completion chunk") from exc
    if chunk.error is not None:
        raise LLMError(f"the model reported an error: {_shown_json(chunk.error)}")
    return chunk


async def _lines(response: httpx.Response) -> AsyncGenerator[str, None]:
    """The lines of a streamed response (UTF-8), each at most `MAX_LINE_BYTES` long."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    buffer = ""
    async for data in response.aiter_bytes():
        buffer += decoder.decode(data)
        *lines, buffer = buffer.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        for line in lines:
            yield line
        if len(buffer) > MAX_LINE_BYTES:
            raise LLMError(f"malformed stream: a line longer than {MAX_LINE_BYTES} bytes")
    buffer += decoder.decode(b"", final=True)
    if buffer:
        yield buffer


@dataclass(frozen=True, slots=True)
class Completion:
    """One streamed reply: its text, the tools it calls, why it finished."""

    text: str
    tool_calls: list[ToolCall]
    finish_reason: str | None


# --- the client -------------------------------------------------------------------------------


class CustomLLM:
    """One conversation with a persona's own LLM: its history, and streamed completions.

    Args:
        config: Where the model is.
        limits: The bounds of every request.
        client: The HTTP client (one is made, and closed by `aclose`, when None).
    """

    def __init__(
        self,
        config: CustomLLMConfig,
        *,
        limits: CustomLLMLimits | None = None,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self.config = config
        self.limits = limits or CustomLLMLimits()
        self.history: list[ChatMessage] = []
        self._client = client
        self._owns_client = client is None

    def __repr__(self) -> str:
        return f"CustomLLM({self.config.shown_endpoint}, model={self.config.model!r})"

    # History ---------------------------------------------------------------------------------

    def add_user(self, text: str) -> None:
        """A user turn."""
        if text.strip():
            self._add(ChatMessage(role="user", content=text.strip()))

    def add_assistant(self, text: str, tool_calls: Sequence[ToolCall] = ()) -> None:
        """What the replica said (and the tools it called)."""
        if text.strip() or tool_calls:
            self._add(
                ChatMessage(
                    role="assistant", content=text.strip(), tool_calls=list(tool_calls) or None
                )
            )

    def add_tool_result(self, tool_call_id: str, output: str) -> None:
        """A tool's answer to one call of the last assistant message."""
        self._add(ChatMessage(role="tool", content=output, tool_call_id=tool_call_id))

    def _add(self, message: ChatMessage) -> None:
        self.history.append(message)
        cap = max(self.limits.max_history_messages, 1)
        if len(self.history) > cap:
            kept = self.history[-cap:]
            # Never open on a tool result or on the assistant message the results answer: cut to
            # the first user message, unless that would leave nothing.
            for start, kept_message in enumerate(kept):
                if kept_message.role == "user":
                    kept = kept[start:]
                    break
            self.history = kept

    def messages(self, system_prompt: str) -> list[ChatMessage]:
        """What one request sends: the system prompt, then the conversation so far."""
        system = [ChatMessage(role="system", content=system_prompt)] if system_prompt else []
        return [*system, *self.history]

    def request_body(self, messages: Sequence[ChatMessage]) -> dict[str, Any]:
        """The JSON body of one request."""
        body: dict[str, Any] = {**self.config.extra_body}
        if self.config.model:
            body["model"] = self.config.model
        body["messages"] = [message.wire() for message in messages]
        body["stream"] = True
        if self.config.tools:
            body["tools"] = self.config.tools
        return body

    # Requests --------------------------------------------------------------------------------

    async def complete(
        self,
        messages: Sequence[ChatMessage],
        *,
        on_text: Callable[[str], None],
        on_end: Callable[[], None] | None = None,
        max_chars: int | None = None,
    ) -> Completion:
        """Stream one reply: `on_text` gets each piece of text as it arrives.

        Args:
            messages: The system prompt and the conversation (see `messages`).
            on_text: Called with every piece of reply text, in order.
            on_end: Called once the reply is complete, as soon as that is known (before the
                response is closed); not called when the request fails.
            max_chars: Stop reading (close the stream) once this much text came; the reply
                then ends at the last whole word (`finish_reason` "length").

        Raises:
            LLMError: Unreachable, non-2xx, a malformed stream or a timeout (the message holds
                no API key).
        """
        config = self.config
        limits = self.limits
        budget = limits.max_reply_chars if max_chars is None else max_chars
        if not config.endpoint.startswith(("http://", "https://")):
            raise LLMError("base_url must be an http:// or https:// URL")
        headers = {**config.headers, "Accept": "text/event-stream"}
        if config.api_key is not None:
            headers["Authorization"] = f"Bearer {config.api_key.get_secret_value()}"
        client = self._http()
        try:
            request = client.build_request(
                "POST", config.endpoint, json=self.request_body(messages), headers=headers
            )
        except (httpx.InvalidURL, TypeError, ValueError) as exc:
            raise LLMError(f"base_url is not a usable URL: {type(exc).__name__}") from exc
        reply = _Reply(budget, on_text)
        try:
            # `on_text` is synchronous: the time limit covers the request and nothing else.
            async with asyncio.timeout(limits.max_stream_seconds):
                await self._stream(client, request, reply, on_end)
        except LLMError as exc:
            # The server's own words (a malformed line, an error event) may hold the key.
            raise LLMError(self._redacted(str(exc))) from None
        except TimeoutError as exc:
            raise LLMError(
                f"{config.shown_endpoint} took longer than {limits.max_stream_seconds:g} s"
            ) from exc
        except httpx.TimeoutException as exc:
            raise LLMError(
                f"{config.shown_endpoint} timed out ({type(exc).__name__}): nothing came for "
                f"{limits.read_timeout:g} s"
            ) from exc
        except httpx.HTTPError as exc:
            raise LLMError(
                f"{config.shown_endpoint} is unreachable: {type(exc).__name__}: "
                f"{self._redacted(str(exc))}"
            ) from exc
        return Completion("".join(reply.text), reply.tool_calls, reply.finish_reason)

    async def _stream(
        self,
        client: httpx.AsyncClient,
        request: httpx.Request,
        reply: _Reply,
        on_end: Callable[[], None] | None,
    ) -> None:
        response = await client.send(request, stream=True)
        try:
            if not 200 <= response.status_code < 300:
                body = await _read_some(response)
                raise LLMError(
                    f"{self.config.shown_endpoint} answered {response.status_code}: "
                    f"{self._redacted(body) or '(no body)'}"
                )
            async with contextlib.aclosing(parse_sse(_lines(response))) as chunks:
                async for chunk in chunks:
                    if chunk is None:
                        break
                    if not reply.take(chunk):
                        logger.info(
                            "reply of %s cut at %d characters",
                            self.config.shown_endpoint,
                            reply.budget,
                        )
                        break
                else:
                    if reply.finish_reason is None:
                        kind = response.headers.get("content-type", "no content type")
                        raise LLMError(
                            f"malformed stream: {self.config.shown_endpoint} ended its answer "
                            f"({kind}) before `data: [DONE]`"
                        )
            reply.tool_calls = reply.tools.calls() if reply.finish_reason != "length" else []
            if on_end is not None:
                on_end()
        finally:
            await response.aclose()

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            limits = self.limits
            self._client = httpx.AsyncClient(
                timeout=httpx.Timeout(
                    connect=limits.connect_timeout,
                    read=limits.read_timeout,
                    write=limits.read_timeout,
                    pool=limits.connect_timeout,
                ),
                follow_redirects=False,
            )
        return self._client

    def _redacted(self, text: str) -> str:
        """`text` (from the server or an exception) without the API key, on one short line."""
        if self.config.api_key is not None:
            secret = self.config.api_key.get_secret_value()
            if secret:
                text = text.replace(secret, "**********")
        line = " ".join(text.split())
        return line if len(line) <= MAX_ERROR_BODY_CHARS else line[:MAX_ERROR_BODY_CHARS] + "…"

    async def aclose(self) -> None:
        """Close the HTTP client (if this object made it)."""
        if self._client is not None and self._owns_client:
            await self._client.aclose()
        self._client = None


class _Reply:
    """A reply as it streams in: its text (within a budget), tool calls, finish reason."""

    def __init__(self, budget: int, on_text: Callable[[str], None]) -> None:
        self.budget = budget
        self.on_text = on_text
        self.text: list[str] = []
        self.size = 0
        self.tools = ToolCallAssembler()
        self.tool_calls: list[ToolCall] = []
        self.finish_reason: str | None = None

    def take(self, chunk: ChatCompletionChunk) -> bool:
        """Take one chunk; False once the budget is spent (the reply ends there)."""
        if not chunk.choices:
            return True
        choice = chunk.choices[0]
        delta = choice.delta or ChunkDelta()
        if delta.tool_calls:
            self.tools.feed(delta.tool_calls)
        piece = delta.content or ""
        if self.size + len(piece) > self.budget:
            self._say(_whole_words(piece[: max(self.budget - self.size, 0)]))
            self.finish_reason = "length"
            return False
        self._say(piece)
        if choice.finish_reason:
            self.finish_reason = choice.finish_reason
        return True

    def _say(self, piece: str) -> None:
        if piece:
            self.size += len(piece)
            self.text.append(piece)
            self.on_text(piece)


async def _read_some(response: httpx.Response) -> str:
    """The start of an error response's body (at most a few KB are read)."""
    data = b""
    async for part in response.aiter_bytes():
        data += part
        if len(data) > 4 * MAX_ERROR_BODY_CHARS:
            break
    return data.decode("utf-8", errors="replace")


def _whole_words(text: str) -> str:
    """`text` cut after its last whole word (a word cut by the limit is dropped)."""
    if not text or text[-1].isspace():
        return text.rstrip()
    head, _, _ = text.rpartition(" ")
    return head.rstrip()


def _shown_json(value: Any) -> str:
    shown = json.dumps(value, default=str)
    return shown if len(shown) <= MAX_ERROR_BODY_CHARS else shown[:MAX_ERROR_BODY_CHARS] + "…"
