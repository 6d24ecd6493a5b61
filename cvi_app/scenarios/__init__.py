"""Scenario tests: a scripted conversation with a persona, and what each turn must bring.

A scenario file (YAML, or JSON) names a persona, an optional greeting and context, the user's
turns, what each turn expects (a tool called with some arguments, words in the reply, a bound
on the response latency) and how the conversation ends. `python -m cvi_app.scenarios run PATH`
runs them through the app's SessionManager (against a sandbox by default) and reports each
turn; `cvi_app.scenarios.pytest_plugin` gives tests a `run_scenario` fixture.
"""

from cvi_app.scenarios.api import ScenarioLike, run_scenario, run_scenarios
from cvi_app.scenarios.loading import ScenarioFile, ScenarioFileError, load_scenario
from cvi_app.scenarios.models import (
    EndExpectation,
    Scenario,
    ToolExpectation,
    Turn,
    TurnExpectation,
)
from cvi_app.scenarios.results import EndResult, ScenarioResult, ToolSeen, TurnResult
from cvi_app.scenarios.runner import RunOptions, ScenarioRunner

__all__ = [
    "EndExpectation",
    "EndResult",
    "RunOptions",
    "Scenario",
    "ScenarioFile",
    "ScenarioFileError",
    "ScenarioLike",
    "ScenarioResult",
    "ScenarioRunner",
    "ToolExpectation",
    "ToolSeen",
    "Turn",
    "TurnExpectation",
    "TurnResult",
    "load_scenario",
    "run_scenario",
    "run_scenarios",
]
