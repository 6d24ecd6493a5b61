"""Tools the replica's LLM can call: a registry that answers `conversation.tool_call`.

A tool is an async function; its parameters (from type hints) become both the OpenAI function
schema given to a persona (`layers.llm.tools`, kept in step by `python -m cvi_app.tools_sync`)
and the pydantic model that checks the arguments the replica sends. The docstring's first
paragraph describes the tool, and a Google-style `Args:` section describes its arguments:

    tools = ToolRegistry()

    @tools.tool
    async def get_weather(city: str, unit: Literal["C", "F"] = "C") -> dict:
        \"\"\"Current weather for a city.

Args:
            city: The city, e.g. Lisbon.
            unit: Celsius or Fahrenheit.
        \"\"\"

The app's own tools (`app_tools`) are the demo tools plus the host app's: the module named by
`CVI_TOOLS_MODULE` is imported and its `register(tools: ToolRegistry)` function called.
"""

from __future__ import annotations

import asyncio
import copy
import importlib
import inspect
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError, create_model

if TYPE_CHECKING:
    from cvi_app.config import Settings

logger = logging.getLogger(__name__)

DEFAULT_TIME_LIMIT = 10.0

MAX_TOOLS = 128
"""Tools one registry holds: the most an OpenAI-style chat request takes."""
MAX_DESCRIPTION_CHARS = 1_024
"""A tool's description (longer is cut with an ellipsis): OpenAI's limit for one."""
MAX_ARGUMENT_DESCRIPTION_CHARS = 512
"""One argument's description from the docstring (longer is cut with an ellipsis)."""
MAX_SCHEMA_BYTES = 16 * 1024
"""One tool's definition as compact JSON: a few dozen described arguments."""
MAX_DEFINITIONS_BYTES = 128 * 1024
"""Every definition together as JSON: half of what a persona's `layers` may hold (256 KB),
leaving room for the persona's other tools and settings."""
TOOL_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
"""What a tool name may be (OpenAI's rule, and the Tavus client's)."""

TOOLS_MODULE_SETTING = "CVI_TOOLS_MODULE"

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
    parameters: dict[str, Any] = field(default_factory=dict)
    """The arguments as JSON schema, as the LLM is told them (`function.parameters`)."""

    def openai_schema(self) -> dict[str, Any]:
        """The tool as an OpenAI-style function tool (what a Tavus persona's LLM layer takes)."""
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": copy.deepcopy(self.parameters),
            },
        }


# ---- docstrings ------------------------------------------------------------------------------

_ARGS_HEADERS = frozenset({"args", "arguments", "parameters", "params"})
# Google-style section headers (a line of its own); `Args:` and its synonyms are the ones read.
_SECTION = re.compile(
    r"^(Args|Arguments|Parameters|Params|Attributes|Examples?|Keyword Arg(?:ument)?s|Methods|"
    r"Notes?|Other Parameters|Returns?|Raises?|References|See Also|Todo|Warnings?|Warns|"
    r"Yields?):\s*$"
)
_ARG_ENTRY = re.compile(r"^\*{0,2}(\w+)\s*(?:\([^)]*\))?\s*:\s*(.*)$")


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _summary(doc: str) -> str:
    """The docstring's first paragraph, on one line ("" when it opens with a section)."""
    lines: list[str] = []
    for line in doc.splitlines():
        if not line.strip() or _SECTION.match(line.strip()):
            break
        lines.append(line.strip())
    return " ".join(lines)


def _argument_descriptions(doc: str) -> dict[str, str]:
    """Each argument's description from a Google-style `Args:` section (continuations joined)."""
    found: dict[str, str] = {}
    lines = doc.splitlines()
    in_args = False
    header_indent = entry_indent = 0
    current: str | None = None
    for line in lines:
        stripped = line.strip()
        indent = len(line) - len(line.lstrip())
        header = _SECTION.match(stripped)
        if header and (not in_args or indent <= header_indent):
            in_args = header.group(1).strip().lower() in _ARGS_HEADERS
            header_indent, entry_indent, current = indent, 0, None
            continue
        if not in_args or not stripped:
            continue
        if indent <= header_indent:  # text back at the header's level ends the section
            in_args, current = False, None
            continue
        if entry_indent == 0:
            entry_indent = indent
        entry = _ARG_ENTRY.match(stripped) if indent == entry_indent else None
        if entry:
            current = entry.group(1)
            found[current] = entry.group(2).strip()
        elif current is not None and indent > entry_indent:
            found[current] = f"{found[current]} {stripped}".strip()
    return {
        name: _shorten(text, MAX_ARGUMENT_DESCRIPTION_CHARS) for name, text in found.items() if text
    }


# ---- the JSON schema the LLM is given --------------------------------------------------------

# Keys whose value is one schema, a list of schemas, or a name -> schema mapping.
_ONE_SCHEMA = ("items", "additionalProperties", "not", "contains", "propertyNames", "if", "then")
_SCHEMA_LISTS = ("anyOf", "oneOf", "allOf", "prefixItems")
_SCHEMA_MAPS = ("properties", "patternProperties", "dependentSchemas")


def _tidy(schema: Any, defs: dict[str, Any], seen: tuple[str, ...] = ()) -> Any:
    """`schema` with `$ref`s inlined, pydantic's `title`s dropped and optional `null`s folded."""
    if not isinstance(schema, dict):
        return schema
    ref = schema.get("$ref")
    if isinstance(ref, str):
        name = ref.rsplit("/", 1)[-1]
        if name in seen:
            raise TypeError(f"{name!r} refers to itself: a recursive type cannot be described")
        if name not in defs:
            raise TypeError(f"unresolved schema reference {ref!r}")
        siblings = {key: value for key, value in schema.items() if key != "$ref"}
        return _tidy({**defs[name], **siblings}, defs, (*seen, name))
    tidy: dict[str, Any] = {}
    for key, value in schema.items():
        if key in ("title", "$defs"):
            continue
        if key in _ONE_SCHEMA and isinstance(value, dict):
            tidy[key] = _tidy(value, defs, seen)
        elif key in _SCHEMA_LISTS and isinstance(value, list):
            tidy[key] = [_tidy(item, defs, seen) for item in value]
        elif key in _SCHEMA_MAPS and isinstance(value, dict):
            tidy[key] = {name: _tidy(item, defs, seen) for name, item in value.items()}
        else:
            tidy[key] = value
    properties = tidy.get("properties")
    if isinstance(properties, dict):
        required = set(tidy.get("required") or [])
        for name, prop in properties.items():
            if name not in required:
                properties[name] = _without_optional_null(prop)
    # Keywords in a fixed order; the properties keep the signature's.
    return dict(sorted(tidy.items()))


def _without_optional_null(prop: Any) -> Any:
    """An optional argument that defaults to None, described as its type (left out = None)."""
    if not isinstance(prop, dict) or "default" not in prop or prop["default"] is not None:
        return prop
    branches = prop.get("anyOf")
    if not isinstance(branches, list):
        return prop
    kept = [b for b in branches if b != {"type": "null"}]
    if len(kept) != 1 or not isinstance(kept[0], dict):
        return prop
    rest = {key: value for key, value in prop.items() if key not in ("anyOf", "default")}
    return dict(sorted({**kept[0], **rest}.items()))


def _parameters(name: str, model: type[BaseModel], described: dict[str, str]) -> dict[str, Any]:
    raw = model.model_json_schema()
    properties = raw.get("properties", {})
    for argument, text in described.items():
        if argument in properties and "description" not in properties[argument]:
            properties[argument]["description"] = text
    try:
        parameters: dict[str, Any] = _tidy(raw, raw.get("$defs", {}))
    except TypeError as exc:
        raise TypeError(f"tool {name!r}: {exc}") from None
    parameters.setdefault("properties", {})
    return parameters


def _arguments_model(name: str, function: ToolFunction) -> type[BaseModel]:
    fields: dict[str, Any] = {}
    try:
        # Hints written as strings (`from __future__ import annotations`) are read in the
        # tool's own module.
        signature = inspect.signature(function, eval_str=True)
    except NameError as exc:
        raise TypeError(
            f"tool {name!r}: a type hint cannot be resolved ({exc}); define its types at the "
            "module's top level"
        ) from None
    for parameter in signature.parameters.values():
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            raise TypeError(f"tool {name!r}: *args/**kwargs cannot be described to an LLM")
        annotation = (
            parameter.annotation if parameter.annotation is not inspect.Parameter.empty else Any
        )
        default = parameter.default if parameter.default is not inspect.Parameter.empty else ...
        fields[parameter.name] = (annotation, default)
    return create_model(f"{name}_arguments", __config__=ConfigDict(extra="forbid"), **fields)


def _json_bytes(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":"), default=str).encode())


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
        self._bytes = 1  # the list's brackets, less the first comma

    def tool(
        self,
        function: ToolFunction | None = None,
        /,
        *,
        name: str | None = None,
        description: str | None = None,
        time_limit: float = DEFAULT_TIME_LIMIT,
    ) -> Any:
        """Register an async function as a tool (usable bare or with options).

        Args:
            function: The tool (when used bare, as `@tools.tool`).
            name: The name the LLM calls it by (default: the function's).
            description: What the LLM is told it does (default: the docstring's first
                paragraph, else the name).
            time_limit: Seconds a call may take before it is answered with an error.

        Raises:
            TypeError: Not an async function, `*args`/`**kwargs`, or arguments whose types
                cannot be described (a recursive model, a definition over `MAX_SCHEMA_BYTES`).
            ValueError: A bad or taken name, or a registry already holding `MAX_TOOLS` tools
                or `MAX_DEFINITIONS_BYTES` of definitions.
        """

        def register(fn: ToolFunction) -> ToolFunction:
            if not inspect.iscoroutinefunction(fn):
                raise TypeError(f"tool {fn.__name__!r} must be an async function")
            tool_name = name or fn.__name__
            if not TOOL_NAME.match(tool_name):
                raise ValueError(
                    f"tool name {tool_name!r} must be 1-64 letters, digits, '_' or '-'"
                )
            if tool_name in self._tools:
                raise ValueError(f"a tool named {tool_name!r} is already registered")
            if len(self._tools) >= MAX_TOOLS:
                raise ValueError(f"a registry holds at most {MAX_TOOLS} tools")
            doc = inspect.getdoc(fn) or ""
            model = _arguments_model(tool_name, fn)
            tool = Tool(
                name=tool_name,
                description=_shorten(
                    description or _summary(doc) or tool_name, MAX_DESCRIPTION_CHARS
                ),
                function=fn,
                arguments_model=model,
                time_limit=time_limit,
                parameters=_parameters(tool_name, model, _argument_descriptions(doc)),
            )
            size = _json_bytes(tool.openai_schema())
            if size > MAX_SCHEMA_BYTES:
                raise TypeError(
                    f"tool {tool_name!r}: its definition takes {size} bytes as JSON, more than "
                    f"{MAX_SCHEMA_BYTES}"
                )
            # As a JSON list: each definition, a comma between two, the brackets.
            if self._bytes + size + 1 > MAX_DEFINITIONS_BYTES:
                raise ValueError(
                    f"tool {tool_name!r}: the definitions would take more than "
                    f"{MAX_DEFINITIONS_BYTES} bytes as JSON"
                )
            self._tools[tool_name] = tool
            self._bytes += size + 1
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
        """Every tool as an OpenAI-style function tool, for a persona's `layers.llm.tools`.

        Sorted by name, so the same tools always give the same list.
        """
        return [self._tools[name].openai_schema() for name in sorted(self._tools)]

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


# ---- the app's tools -------------------------------------------------------------------------


def load_tools_module(module_name: str, registry: ToolRegistry) -> None:
    """Import the host app's tools module and let it register its tools on `registry`.

    The module defines `register(tools: ToolRegistry) -> None`, which adds its tools (with
    `@tools.tool`).

    Raises:
        ConfigError: The module cannot be imported, has no `register` function, or `register`
            failed (a bad tool); the message names `CVI_TOOLS_MODULE`.
    """
    from cvi_app.config import ConfigError

    where = f"{TOOLS_MODULE_SETTING}={module_name!r}"
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        raise ConfigError(
            f"{where}: no module named {exc.name!r} could be imported (is it installed, or on "
            "PYTHONPATH?)"
        ) from exc
    except Exception as exc:
        raise ConfigError(f"{where}: importing it failed: {type(exc).__name__}: {exc}") from exc
    register = getattr(module, "register", None)
    if not callable(register):
        raise ConfigError(
            f"{where}: the module has no register(tools) function to add its tools with"
        )
    try:
        register(registry)
    except Exception as exc:
        raise ConfigError(
            f"{where}: its register(tools) failed: {type(exc).__name__}: {exc}"
        ) from exc


def app_tools(
    settings: Settings | None = None,
    *,
    also: Iterable[Callable[[ToolRegistry], None]] = (),
) -> ToolRegistry:
    """The app's tools, in a new registry: the host app's, then the demo tools.

    The host app's come from the module `CVI_TOOLS_MODULE` names (`load_tools_module`), then
    from each `register(tools)` function in `also`; a demo tool whose name the host app takes
    is left out.

    Raises:
        ConfigError: The tools module cannot be loaded (see `load_tools_module`).
    """
    from cvi_app.config import get_settings
    from cvi_app.live.demo_tools import register_demo_tools

    settings = settings if settings is not None else get_settings()
    registry = ToolRegistry()
    if settings.tools_module:
        load_tools_module(settings.tools_module, registry)
    for register in also:
        register(registry)
    return register_demo_tools(registry)
