"""A failing expectation says why; a scenario that cannot start says why; Tavus's test mode
(here the sandbox's, which behaves the same: no replica joins) checks nothing and says so."""

from __future__ import annotations

import asyncio

from cvi_app.scenarios import RunOptions, Scenario, ScenarioResult
from cvi_app.scenarios.api import run_scenarios
from cvi_app.scenarios.environment import private_store
from cvi_app.scenarios.pytest_plugin import ScenarioFixture
from cvi_app.scenarios.runner import NO_REPLICA_NOTE

WRONG = {
    "name": "Wrong on purpose",
    "persona": "Support Agent",
    "turns": [
        {
            "say": "Where is my order A-1001?",
            "expect": {
                "tool_called": {"name": "lookup_order", "arguments": {"order_id": "A-1002"}},
                "reply_contains": ["A-1001", "shipped"],
                "latency_under": 0.001,
            },
        },
        {"say": "Hello there", "expect": {"tool_called": {"name": "get_weather"}}},
    ],
    "end": {"reason": "max_call_duration"},
}


def test_each_failed_expectation_is_reported_with_its_reason(
    run_scenario: ScenarioFixture,
) -> None:
    result = run_scenario(WRONG, pace=100)

    assert not result.passed
    first, second = result.turns
    assert first.status == "failed"
    assert first.failures[0] == (
        'lookup_order was called with {"order_id": "A-1001"}, not with {"order_id": "A-1002"}'
    )
    assert first.failures[1].startswith(
        "expected the reply to contain 'shipped', it said: \"Here is what lookup_order returned"
    )
    assert first.failures[2].startswith("latency ") and first.failures[2].endswith(
        " s over the 0.001 s bound"
    )
    assert second.failures == ["get_weather was not called"]
    assert result.end is not None and result.end.failures == [
        "expected the end reason to contain 'max_call_duration', it was "
        '"end_conversation_endpoint_hit"'
    ]
    report = result.report()
    assert "turn 1 FAILED" in report and "get_weather was not called" in report
    assert result.summary() == "0 passed, 3 failed"


def test_an_unknown_persona_fails_every_turn_and_says_which_personas_there_are(
    run_scenario: ScenarioFixture,
) -> None:
    result = run_scenario(
        {"persona": "Nobody Here", "turns": [{"say": "Hi"}, {"say": "Hello?"}]}, pace=100
    )

    assert not result.passed
    assert result.error is not None
    assert result.error.startswith("no persona has the id or name 'Nobody Here'")
    assert "Support Agent" in result.error
    assert [t.failures for t in result.turns] == [["not run: the scenario could not run"]] * 2
    assert result.failures()[0].startswith("Could not run: no persona")


def test_a_turn_the_replica_does_not_answer_in_time_fails_with_the_wait(
    run_scenario: ScenarioFixture,
) -> None:
    # At one word a second the long story takes minutes; the turn waits 0.5 s for the whole
    # of it and is over before the replica is (it has started, so the reply words are there).
    result = run_scenario(
        {
            "persona": "Sandbox Assistant",
            "turns": [
                {
                    "say": "Tell me a story",
                    "timeout": 1.5,
                    "expect": {"reply_contains": "lighthouse", "latency_under": 30},
                },
            ],
        },
        pace=4,
    )
    [turn] = result.turns
    assert turn.status == "passed", result.report()
    assert 1.4 < turn.duration_s < 5

    silent = run_scenario(
        {
            "persona": "Sandbox Assistant",
            "turns": [{"say": "one two three four five six seven eight", "timeout": 0.5}],
        },
        pace=2,
    )
    [turn] = silent.turns
    assert turn.failures == ["the replica did not answer within 0.5 s"]


def _run_in_test_mode(scenario: Scenario) -> ScenarioResult:
    async def run() -> ScenarioResult:
        [result] = await run_scenarios([scenario], options=RunOptions(test_mode=True))
        return result

    with private_store():
        return asyncio.run(run())


def test_without_a_replica_nothing_is_checked_and_the_result_says_what_was_not() -> None:
    scenario = Scenario.model_validate(
        {
            "persona": "Support Agent",
            "turns": [{"say": "Where is my order A-1001?", "expect": {"reply_contains": "x"}}],
        }
    )
    result = _run_in_test_mode(scenario)

    assert result.passed and result.error is None, result.report()
    assert result.conversation_id
    assert result.mode == "sandbox (test mode)"
    assert [t.status for t in result.turns] == ["skipped"]
    assert result.end is not None and result.end.status == "skipped"
    assert NO_REPLICA_NOTE in result.notes
    assert "Not checked without a replica" in result.report()
    assert result.summary() == "0 passed, 0 failed, 2 not checked"
