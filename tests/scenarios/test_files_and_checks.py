"""Scenario files (YAML and JSON) and the checks, without a conversation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cvi_app.scenarios import ScenarioFileError, ToolSeen, TurnExpectation, load_scenario
from cvi_app.scenarios.checks import Observed, arguments_match, check_turn


def test_json_and_yaml_say_the_same_and_single_items_may_stand_alone(tmp_path: Path) -> None:
    data = {
        "persona": "Support Agent",
        "turns": [
            {
                "say": "Weather in Lisbon?",
                "expect": {"tool_called": {"name": "get_weather"}, "reply_contains": "Lisbon"},
            }
        ],
    }
    as_json = tmp_path / "weather.json"
    as_json.write_text(json.dumps(data))
    as_yaml = tmp_path / "weather.yaml"
    as_yaml.write_text(
        "persona: Support Agent\nturns:\n  - say: Weather in Lisbon?\n    expect:\n"
        "      tool_called: {name: get_weather}\n      reply_contains: Lisbon\n"
    )
    loaded = load_scenario(as_json)
    assert loaded.scenario == load_scenario(as_yaml).scenario
    expect = loaded.scenario.turns[0].expect
    assert [t.name for t in expect.tool_called] == ["get_weather"]
    assert expect.reply_contains == ["Lisbon"]
    assert loaded.title == "weather"
    assert loaded.scenario.end.by == "hang_up"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "the file is empty"),
        ("persona: x\nturns: []\n", "turns: list should have at least 1 item after validation"),
        ("persona: x\nturns:\n  - say: '  '\n", "turn 1, say: a turn must say something"),
        (
            "persona: x\nturns:\n  - hello\n",
            "turn 1: must be a mapping (key: value lines) (got 'hello')",
        ),
        (
            "persona: x\nturns:\n  - say: hi\n    expect: {reply_contains: ['']}\n",
            "turn 1, expect.reply_contains: an empty word cannot be looked for",
        ),
        ("persona: x\nturn:\n  - say: hi\n", "turn: is not a field a scenario has"),
        (
            "persona: x\nturn_timeout: soon\nturns:\n  - say: hi\n",
            "turn_timeout: must be a number (got 'soon')",
        ),
    ],
)
def test_problems_name_the_file_and_field(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(text)
    with pytest.raises(ScenarioFileError) as raised:
        load_scenario(path)
    assert any(p.startswith(problem) for p in raised.value.problems), raised.value.problems
    assert str(raised.value).startswith(f"{path}: ")


def test_a_file_of_another_kind_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.txt"
    path.write_text("persona: x")
    with pytest.raises(ScenarioFileError, match="ends in .yaml, .yml or .json"):
        load_scenario(path)


def test_arguments_match_as_a_subset() -> None:
    actual = {"order_id": "A-1001", "options": {"express": True, "notes": ["a", "b"]}, "n": 2}
    assert arguments_match(actual, {})
    assert arguments_match(actual, {"order_id": "A-1001"})
    assert arguments_match(actual, {"options": {"express": True}, "n": 2.0})
    assert not arguments_match(actual, {"order_id": "a-1001"})
    assert not arguments_match(actual, {"options": {"express": 1}})
    assert not arguments_match(actual, {"options": {"notes": ["a"]}})
    assert not arguments_match(actual, {"missing": None})


def test_check_turn_says_each_reason() -> None:
    expect = TurnExpectation.model_validate(
        {
            "tool_called": [{"name": "lookup_order"}, {"name": "get_weather"}],
            "reply_contains": ["shipped", "today", "order"],
            "latency_under": 1.5,
        }
    )
    seen = Observed(
        timeout=10,
        reply="Your ORDER is on its way.",
        tools=[ToolSeen(name="lookup_order", arguments={"order_id": "A-1"}, status="success")],
        latency_s=2.4,
        answered=True,
    )
    assert check_turn(expect, seen) == [
        "get_weather was not called (the replica called lookup_order)",
        "expected the reply to contain 'shipped' and 'today', it said: \"Your ORDER is on its way.\"",
        "latency 2.40 s over the 1.5 s bound",
    ]
    assert check_turn(expect, Observed(timeout=3, ended="max_call_duration reached"))[0] == (
        'the conversation ended before the replica answered ("max_call_duration reached")'
    )
