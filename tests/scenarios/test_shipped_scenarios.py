"""The scenarios shipped under scenarios/ pass against the sandbox, through the fixture."""

from __future__ import annotations

from pathlib import Path

import pytest

from cvi_app.scenarios import ScenarioResult, load_scenario
from cvi_app.scenarios.pytest_plugin import ScenarioFixture

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = sorted((ROOT / "scenarios").glob("*.yaml"))


def test_scenarios_are_shipped_for_the_demo_personas() -> None:
    personas = {load_scenario(path).scenario.persona for path in SHIPPED}
    assert {"Support Agent", "Sandbox Assistant"} <= personas


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_a_shipped_scenario_passes(run_scenario: ScenarioFixture, path: Path) -> None:
    result = run_scenario(path, pace=100)

    assert isinstance(result, ScenarioResult)
    assert result.passed, result.report()
    assert result.turns and all(turn.status == "passed" for turn in result.turns)
    assert result.end is not None and result.end.status == "passed"


def test_the_support_agent_looks_the_order_up_and_reads_its_status(
    run_scenario: ScenarioFixture,
) -> None:
    result = run_scenario(ROOT / "scenarios" / "support_agent_order.yaml", pace=100)

    [turn] = result.turns
    [call] = turn.tools
    assert (call.name, call.arguments, call.status) == (
        "lookup_order",
        {"order_id": "A-1001"},
        "success",
    )
    assert "out for delivery" in turn.reply
    assert turn.latency_s is not None and 0 < turn.latency_s < 5
    assert result.persona == "Support Agent (pb2f1d4e6a02)"
    assert result.end is not None and result.end.reason == "end_conversation_endpoint_hit"


def test_a_scenario_given_as_data_runs_too(run_scenario: ScenarioFixture) -> None:
    result = run_scenario(
        {
            "persona": "Sandbox Assistant",
            "greeting": "Welcome to the data scenario.",
            "context": "The user's name is Ada.",
            "turns": [{"say": "What is my name?", "expect": {"reply_contains": "Ada"}}],
        },
        pace=100,
    )

    assert result.passed, result.report()
    assert result.greeting == "Welcome to the data scenario."
    assert result.source == "scenario"
