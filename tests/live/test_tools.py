"""ToolRegistry: tools described to the LLM, run with checked arguments; every failure an error."""

from __future__ import annotations

import asyncio
import json

import pytest
from pydantic import BaseModel

from cvi_app.live.demo_tools import register_demo_tools
from cvi_app.live.tools import ToolRegistry


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
    forecast, shout = tools.openai_schemas()[:2]
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
