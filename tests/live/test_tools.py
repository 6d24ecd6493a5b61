"""ToolRegistry: tools described to the LLM, run with checked arguments; every failure an error."""

from __future__ import annotations

import asyncio
import enum
import importlib
import json
import textwrap
import uuid
from pathlib import Path
from typing import Annotated, Any, Literal

import pytest
from pydantic import BaseModel, Field, create_model

from cvi_app.config import ConfigError, Settings, load_settings
from cvi_app.live.demo_tools import register_demo_tools
from cvi_app.live.tools import (
    MAX_ARGUMENT_DESCRIPTION_CHARS,
    MAX_DEFINITIONS_BYTES,
    MAX_DESCRIPTION_CHARS,
    MAX_SCHEMA_BYTES,
    MAX_TOOLS,
    ToolRegistry,
    app_tools,
)


class Forecast(BaseModel):
    city: str
    days: int


def registry() -> ToolRegistry:
    tools = ToolRegistry()

    @tools.tool
    async def forecast(city: str, days: int = 3) -> Forecast:
        """Forecast for a city."""
        return Forecast(city=city, days=days)

    @tools.tool(name="shout", description="Say it loudly.")
    async def _shout(text: str) -> str:
        return text.upper()

    @tools.tool
    async def broken() -> None:
        raise ValueError("no luck today")

    @tools.tool(time_limit=0.01)
    async def sleepy() -> str:
        await asyncio.Event().wait()
        return "never"

    return tools


def test_tools_are_described_as_openai_function_tools() -> None:
    tools = registry()
    assert tools.names() == ["forecast", "shout", "broken", "sleepy"]
    schemas = tools.openai_schemas()
    assert [s["function"]["name"] for s in schemas] == ["broken", "forecast", "shout", "sleepy"]
    by_name = {s["function"]["name"]: s for s in schemas}
    forecast, shout = by_name["forecast"], by_name["shout"]
    assert forecast["type"] == "function"
    assert forecast["function"]["name"] == "forecast"
    assert forecast["function"]["description"] == "Forecast for a city."
    parameters = forecast["function"]["parameters"]
    assert parameters["required"] == ["city"]
    assert parameters["properties"]["city"]["type"] == "string"
    assert parameters["properties"]["days"]["type"] == "integer"
    assert "title" not in parameters
    assert shout["function"]["description"] == "Say it loudly."
    assert "shout" in tools and "_shout" not in tools


async def test_a_tool_runs_with_checked_arguments_and_its_result_becomes_text() -> None:
    tools = registry()
    outcome = await tools.run("forecast", {"city": "Oslo", "days": "5"})
    assert outcome.status == "success"
    assert json.loads(outcome.output) == {"city": "Oslo", "days": 5}
    assert outcome.latency_ms >= 0
    assert (await tools.run("shout", {"text": "hi"})).output == "HI"


@pytest.mark.parametrize(
    ("name", "arguments", "says"),
    [
        ("teleport", {}, "unknown tool 'teleport'"),
        ("forecast", {}, "invalid arguments: city: Field required"),
        ("forecast", {"city": "Oslo", "days": "many"}, "invalid arguments: days:"),
        ("forecast", {"city": "Oslo", "colour": "red"}, "colour: Extra inputs are not permitted"),
        ("broken", {}, "tool 'broken' failed: no luck today"),
        ("sleepy", {}, "tool 'sleepy' took longer than 0.01s"),
    ],
    ids=["unknown", "missing", "wrong-type", "extra", "raises", "too-slow"],
)
async def test_every_failure_is_an_error_outcome_that_says_why(
    name: str, arguments: dict, says: str
) -> None:
    outcome = await registry().run(name, arguments)
    assert outcome.status == "error"
    assert says in outcome.output


def test_only_async_functions_with_named_parameters_can_be_tools() -> None:
    tools = ToolRegistry()

    def not_async(city: str) -> str:
        return city

    async def varargs(*cities: str) -> str:
        return ""

    with pytest.raises(TypeError, match="async"):
        tools.tool(not_async)
    with pytest.raises(TypeError, match="args"):
        tools.tool(varargs)


def test_two_tools_cannot_share_a_name() -> None:
    tools = register_demo_tools(ToolRegistry())

    async def get_weather(city: str) -> str:
        return city

    with pytest.raises(ValueError, match="already registered"):
        tools.tool(get_weather)


async def test_the_demo_tools_answer_the_same_question_the_same_way() -> None:
    tools = register_demo_tools(ToolRegistry())
    first = await tools.run("get_weather", {"city": "Paris"})
    again = await tools.run("get_weather", {"city": "paris"})
    weather = json.loads(first.output)
    assert weather["city"] == "Paris" and 5 <= weather["temp_c"] < 30
    assert weather["conditions"] == json.loads(again.output)["conditions"]
    order = json.loads((await tools.run("lookup_order", {"order_id": "A-1001"})).output)
    assert order["order_id"] == "A-1001"
    assert order["status"] in {"processing", "shipped", "out for delivery", "delivered"}


# ---- the definitions a persona is given ------------------------------------------------------


class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Address(BaseModel):
    """A postal address."""

    street: str
    postcode: str | None = None


class Parcel(BaseModel):
    weight_kg: float
    to: Address


def _titles(schema: Any) -> list[str]:
    """Every `title` keyword anywhere in a schema (property names are not keywords)."""
    found: list[str] = []
    if isinstance(schema, dict):
        for key, value in schema.items():
            if key == "title":
                found.append(value)
            if key == "properties":
                for prop in value.values():
                    found.extend(_titles(prop))
            else:
                found.extend(_titles(value))
    elif isinstance(schema, list):
        for item in schema:
            found.extend(_titles(item))
    return found


def test_the_schema_comes_from_the_type_hints_and_the_google_style_docstring() -> None:
    tools = ToolRegistry()

    @tools.tool
    async def ship(
        parcels: list[Parcel],
        tags: list[str],
        speed: Literal["standard", "express"] = "standard",
        colour: Colour = Colour.RED,
        note: str | None = None,
        insured_for: float | None = ...,  # type: ignore[assignment]
        copies: Annotated[int, Field(ge=1, description="How many labels (1 or more).")] = 1,
        title: str = "",
    ) -> str:
        """Ship parcels to their addresses,
        the cheapest way.

        Shipping takes a day or two; this paragraph is not part of the description.

        Args:
            parcels: The parcels, each with
                its own address.
            tags (list[str]): Labels for the shipment.
            speed: How fast.
            note: Anything for the courier.
            copies: Ignored: the Field's own description wins.

        Returns:
            The tracking number.
        """
        return "T-1"

    [definition] = tools.openai_schemas()
    assert definition["type"] == "function"
    function = definition["function"]
    assert function["name"] == "ship"
    assert function["description"] == "Ship parcels to their addresses, the cheapest way."
    address = {
        "description": "A postal address.",
        "properties": {"street": {"type": "string"}, "postcode": {"type": "string"}},
        "required": ["street"],
        "type": "object",
    }
    assert function["parameters"] == {
        "additionalProperties": False,
        "properties": {
            "parcels": {
                "description": "The parcels, each with its own address.",
                "items": {
                    "properties": {"weight_kg": {"type": "number"}, "to": address},
                    "required": ["weight_kg", "to"],
                    "type": "object",
                },
                "type": "array",
            },
            "tags": {
                "description": "Labels for the shipment.",
                "items": {"type": "string"},
                "type": "array",
            },
            "speed": {
                "default": "standard",
                "description": "How fast.",
                "enum": ["standard", "express"],
                "type": "string",
            },
            "colour": {"default": "red", "enum": ["red", "blue"], "type": "string"},
            # Optional with a None default: described as its type (left out, it is None).
            "note": {"description": "Anything for the courier.", "type": "string"},
            # Required but nullable: null stays a choice.
            "insured_for": {"anyOf": [{"type": "number"}, {"type": "null"}]},
            "copies": {
                "default": 1,
                "description": "How many labels (1 or more).",
                "minimum": 1,
                "type": "integer",
            },
            "title": {"default": "", "type": "string"},
        },
        "required": ["parcels", "tags", "insured_for"],
        "type": "object",
    }
    assert _titles(function["parameters"]) == []
    assert "$defs" not in json.dumps(function) and "$ref" not in json.dumps(function)
    # The keywords come in a fixed order, the properties in the signature's.
    assert list(function["parameters"]) == sorted(function["parameters"])
    assert list(function["parameters"]["properties"])[:2] == ["parcels", "tags"]


async def test_the_described_arguments_are_the_ones_checked() -> None:
    tools = ToolRegistry()

    @tools.tool
    async def ship(
        parcels: list[Parcel], speed: Literal["standard", "express"] = "standard"
    ) -> str:
        return f"{len(parcels)} {speed} to {parcels[0].to.street}"

    parcel = {"weight_kg": 1.5, "to": {"street": "Rua Augusta 1"}}
    ok = await tools.run("ship", {"parcels": [parcel], "speed": "express"})
    assert (ok.status, ok.output) == ("success", "1 express to Rua Augusta 1")
    wrong = await tools.run("ship", {"parcels": [parcel], "speed": "overnight"})
    assert (
        wrong.status == "error" and "speed: Input should be 'standard' or 'express'" in wrong.output
    )
    missing = await tools.run("ship", {"parcels": [{"weight_kg": 1}]})
    assert missing.status == "error" and "parcels.0.to: Field required" in missing.output


def test_a_tool_without_arguments_or_docstring_is_still_a_valid_definition() -> None:
    tools = ToolRegistry()

    @tools.tool
    async def ping() -> str:
        return "pong"

    @tools.tool
    async def only_sections(city: str) -> str:
        """
        Args:
            city: The city.
        """
        return city

    ping_def, sections = sorted(
        tools.openai_schemas(), key=lambda d: d["function"]["name"] != "ping"
    )
    assert ping_def["function"] == {
        "name": "ping",
        "description": "ping",
        "parameters": {"additionalProperties": False, "properties": {}, "type": "object"},
    }
    assert sections["function"]["description"] == "only_sections"
    assert sections["function"]["parameters"]["properties"]["city"]["description"] == "The city."


def test_the_definitions_are_sorted_by_name_whatever_the_registration_order() -> None:
    def registry_of(names: list[str]) -> ToolRegistry:
        tools = ToolRegistry()
        for name in names:

            async def echo(text: str) -> str:
                return text

            tools.tool(echo, name=name)
        return tools

    first = registry_of(["zeta", "alpha", "mid"]).openai_schemas()
    again = registry_of(["mid", "zeta", "alpha"]).openai_schemas()
    assert json.dumps(first) == json.dumps(again)
    assert [d["function"]["name"] for d in first] == ["alpha", "mid", "zeta"]


Huge = create_model(  # type: ignore[call-overload]
    "Huge", **{f"option_{i:03d}": (str, Field(description="x" * 200)) for i in range(100)}
)


class Node(BaseModel):
    value: int
    children: list[Node] = []


def test_what_cannot_be_described_boundedly_is_refused_when_registered() -> None:
    tools = ToolRegistry()

    async def walk(tree: Node) -> str:
        return ""

    with pytest.raises(TypeError, match="recursive"):
        tools.tool(walk)

    async def fine(text: str) -> str:
        return text

    with pytest.raises(ValueError, match="1-64 letters"):
        tools.tool(fine, name="has spaces")
    with pytest.raises(ValueError, match="1-64 letters"):
        tools.tool(fine, name="x" * 65)

    async def wide(**_: str) -> str:
        return ""

    async def huge(options: Huge) -> str:
        return ""

    with pytest.raises(TypeError, match=f"more than {MAX_SCHEMA_BYTES}"):
        tools.tool(huge)

    class Local(BaseModel):
        x: int

    async def local(thing: Local) -> str:
        return ""

    with pytest.raises(TypeError, match="cannot be resolved .* define its types at the module"):
        tools.tool(local)
    assert tools.names() == []


def test_long_descriptions_are_cut_and_a_registry_holds_a_bounded_number_of_tools() -> None:
    tools = ToolRegistry()

    async def chatty(text: str) -> str:
        return text

    chatty.__doc__ = "Says a lot. " * 200 + "\n\nArgs:\n    text: " + "word " * 300
    tools.tool(chatty)
    [definition] = tools.openai_schemas()
    assert len(definition["function"]["description"]) == MAX_DESCRIPTION_CHARS
    assert definition["function"]["description"].endswith("…")
    text = definition["function"]["parameters"]["properties"]["text"]["description"]
    assert len(text) <= MAX_ARGUMENT_DESCRIPTION_CHARS and text.endswith("…")

    async def brief(text: str) -> str:
        """Brief."""
        return text

    for i in range(MAX_TOOLS - 1):
        tools.tool(brief, name=f"t{i}")
    with pytest.raises(ValueError, match=f"at most {MAX_TOOLS}"):
        tools.tool(brief, name="one_more")

    wordy = ToolRegistry()
    one = len(json.dumps(definition, separators=(",", ":")).encode())
    for i in range(MAX_DEFINITIONS_BYTES // (one + 8)):
        wordy.tool(chatty, name=f"t{i}")
    with pytest.raises(ValueError, match=f"more than {MAX_DEFINITIONS_BYTES} bytes"):
        for i in range(20):
            wordy.tool(chatty, name=f"more{i}")
    compact = json.dumps(wordy.openai_schemas(), separators=(",", ":"))
    assert MAX_DEFINITIONS_BYTES - one < len(compact.encode()) <= MAX_DEFINITIONS_BYTES


# ---- the app's tools: the demo tools and the host app's (CVI_TOOLS_MODULE) ---------------------


def _settings(**env: str) -> Settings:
    return Settings(**env)  # type: ignore[arg-type]


def test_the_demo_tools_are_described_to_the_llm() -> None:
    definitions = {
        d["function"]["name"]: d["function"] for d in app_tools(_settings()).openai_schemas()
    }
    assert list(definitions) == ["get_weather", "lookup_order"]
    assert definitions["get_weather"]["description"] == "Get the current weather for a city."
    assert definitions["get_weather"]["parameters"]["properties"]["city"] == {
        "description": "The city, e.g. Lisbon.",
        "type": "string",
    }
    assert definitions["lookup_order"]["parameters"]["required"] == ["order_id"]


async def test_the_host_module_named_by_the_setting_is_loaded_and_its_tools_appear() -> None:
    settings = _settings(CVI_TOOLS_MODULE="tests.live.host_tools")
    assert settings.tools_module == "tests.live.host_tools"
    tools = app_tools(settings)
    assert tools.names() == ["count_stars", "book_table", "get_weather", "lookup_order"]
    book = {d["function"]["name"]: d for d in tools.openai_schemas()}["book_table"]["function"]
    assert book["description"] == "Book a table at the restaurant."
    assert book["parameters"]["required"] == ["party", "time"]
    assert book["parameters"]["properties"]["party"]["description"] == "Who is coming."
    assert book["parameters"]["properties"]["seating"]["enum"] == ["inside", "terrace"]
    outcome = await tools.run("count_stars", {})
    assert json.loads(outcome.output) == {"constellation": "Orion", "bright_stars": 7}
    # A fresh registry each time: the module is imported once, its register() called again.
    assert app_tools(settings).names() == tools.names()


def _module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, source: str) -> str:
    name = f"host_tools_{uuid.uuid4().hex[:8]}"
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(source))
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()
    return name


def test_a_host_tool_takes_the_place_of_a_demo_tool_of_the_same_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = _module(
        tmp_path,
        monkeypatch,
        '''
        def register(tools):
            @tools.tool
            async def get_weather(city: str, unit: str = "C") -> str:
                """The real weather service."""
                return city
        ''',
    )
    tools = app_tools(_settings(CVI_TOOLS_MODULE=name))
    assert tools.names() == ["get_weather", "lookup_order"]
    weather = tools.get("get_weather")
    assert weather is not None and weather.description == "The real weather service."


@pytest.mark.parametrize(
    ("source", "says"),
    [
        (None, "no module named"),
        ("import not_a_module_anywhere_42\n", "no module named 'not_a_module_anywhere_42'"),
        (
            "raise RuntimeError('half-configured')\n",
            "importing it failed: RuntimeError: half-configured",
        ),
        ("TOOLS = []\n", "has no register(tools) function"),
        (
            "def register(tools):\n    async def x(*a): ...\n    tools.tool(x)\n",
            "its register(tools) failed: TypeError",
        ),
    ],
    ids=["missing", "import-inside-fails", "raises", "no-register", "bad-tool"],
)
def test_a_tools_module_that_cannot_load_is_a_start_up_error_naming_the_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, source: str | None, says: str
) -> None:
    name = "no_such_tools_module_42" if source is None else _module(tmp_path, monkeypatch, source)
    with pytest.raises(ConfigError) as raised:
        app_tools(_settings(CVI_TOOLS_MODULE=name))
    assert str(raised.value).startswith(f"CVI_TOOLS_MODULE={name!r}: ")
    assert says in str(raised.value)


def test_the_setting_must_be_a_module_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CVI_TOOLS_MODULE", "  ")
    assert load_settings().tools_module is None
    monkeypatch.setenv("CVI_TOOLS_MODULE", "myapp/tools.py")
    with pytest.raises(ConfigError, match="CVI_TOOLS_MODULE"):
        load_settings()


def test_the_description_stops_at_the_first_blank_line_or_section() -> None:
    tools = ToolRegistry()

    @tools.tool
    async def tight(city: str, days: int = 1) -> str:
        """Forecast for a city, as follows:
        Args:
            city (str): The city.
            days: How many days
                ahead.
        Returns:
            The forecast.
        """
        return city

    [definition] = tools.openai_schemas()
    assert definition["function"]["description"] == "Forecast for a city, as follows:"
    properties = definition["function"]["parameters"]["properties"]
    assert properties["city"]["description"] == "The city."
    assert properties["days"]["description"] == "How many days ahead."
