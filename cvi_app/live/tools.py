"""Tools the replica's LLM can call: a registry that answers `conversation.tool_call`.

A tool is an async function; its parameters (from type hints) become both the OpenAI function
schema given to a persona and the pydantic model that checks the arguments the replica sends.

    tools = ToolRegistry()

    @tools.tool
    async def get_weather(city: str) -> dict:
        \"\"\"Current weather for a city.\"\"\"
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError, create_model

logger = logging.getLogger(__name__)

DEFAULT_TIME_LIMIT = 10.0

ToolFunction = Callable[..., Awaitable[Any]]


class ToolOutcome(BaseModel):
    """What running a tool produced: the text sent back as `conversation.tool_result`."""

    model_config = ConfigDict(frozen=True)

    name: str
    output: str
    status: Literal["success", "error"]
    latency_ms: float


@dataclass(frozen=True)
class Tool:
    """A registered tool: its function, argument model and schema."""

    name: str
    description: str
    function: ToolFunction
    arguments_model: type[BaseModel]
    time_limit: float

    def openai_schema(self) -> dict[str, Any]:
        """The tool as an OpenAI-style function tool (what a Tavus persona's LLM layer takes)."""
        parameters = self.arguments_model.model_json_schema()
        parameters.pop("title", None)
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": parameters,
            },
        }


def _arguments_model(name: str, function: ToolFunction) -> type[BaseModel]:
    fields: dict[str, Any] = {}
    for parameter in inspect.signature(function).parameters.values():
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            raise TypeError(f"tool {name!r}: *args/**kwargs cannot be described to an LLM")
        annotation = (
            parameter.annotation if parameter.annotation is not inspect.Parameter.empty else Any
        )
        default = parameter.default if parameter.default is not inspect.Parameter.empty else ...
        fields[parameter.name] = (annotation, default)
    return create_model(f"{name}_arguments", __config__=ConfigDict(extra="forbid"), **fields)


def _as_output(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, BaseModel):
        return value.model_dump_json()
    return json.dumps(value, ensure_ascii=False, default=str)


class ToolRegistry:
    """Named async tools, run with checked arguments and a time limit."""

    def __init__(self) -> None:
        self._tools: dict[str, Tool] = {}

    def tool(
        self,
        function: ToolFunction | None = None,
        /,
        *,
        name: str | None = None,
        description: str | None = None,
        time_limit: float = DEFAULT_TIME_LIMIT,
    ) -> Any:
        """Register an async function as a tool (usable bare or with options)."""

        def register(fn: ToolFunction) -> ToolFunction:
            if not inspect.iscoroutinefunction(fn):
                raise TypeError(f"tool {fn.__name__!r} must be an async function")
            tool_name = name or fn.__name__
            if tool_name in self._tools:
                raise ValueError(f"a tool named {tool_name!r} is already registered")
            self._tools[tool_name] = Tool(
                name=tool_name,
                description=description or inspect.getdoc(fn) or tool_name,
                function=fn,
                arguments_model=_arguments_model(tool_name, fn),
                time_limit=time_limit,
            )
            return fn

        return register(function) if function is not None else register

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    def names(self) -> list[str]:
        """Names of the registered tools, in registration order."""
        return list(self._tools)

    def get(self, name: str) -> Tool | None:
        """The tool called `name`, if registered."""
        return self._tools.get(name)

    def openai_schemas(self) -> list[dict[str, Any]]:
        """Every tool as an OpenAI-style function tool, for a persona's `layers.llm.tools`."""
        return [tool.openai_schema() for tool in self._tools.values()]

    async def run(self, name: str, arguments: dict[str, Any]) -> ToolOutcome:
        """Run a tool; every failure becomes an `error` outcome whose output says why.

        Args:
            name: the tool the replica asked for.
            arguments: the call's arguments (already a dict, from the protocol layer).
        """
        started = time.perf_counter()

        def outcome(output: str, status: Literal["success", "error"]) -> ToolOutcome:
            latency = (time.perf_counter() - started) * 1000
            return ToolOutcome(name=name, output=output, status=status, latency_ms=latency)

        tool = self._tools.get(name)
        if tool is None:
            return outcome(f"unknown tool {name!r}", "error")
        try:
            checked = tool.arguments_model.model_validate(arguments)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'arguments'}: {e['msg']}"
                for e in exc.errors()
            )
            return outcome(f"invalid arguments: {problems}", "error")
        try:
            async with asyncio.timeout(tool.time_limit):
                value = await tool.function(**dict(checked))
        except TimeoutError:
            return outcome(f"tool {name!r} took longer than {tool.time_limit:g}s", "error")
        except Exception as exc:
            logger.exception("tool %s failed", name)
            return outcome(f"tool {name!r} failed: {exc}", "error")
        return outcome(_as_output(value), "success")
