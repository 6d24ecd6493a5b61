"""A pytest fixture for scenario tests in a host app's own suite.

In the top-level `conftest.py`::

    pytest_plugins = ["cvi_app.scenarios.pytest_plugin"]

then, in a test::

    def test_support_agent(run_scenario):
        result = run_scenario("scenarios/support_agent_order.yaml")
        assert result.passed, result.report()

`run_scenario(path_or_model)` takes a scenario file, a `Scenario` or its data as a dict, runs it
against a sandbox served for it (the store is a throwaway copy of one migrated once per test
session), and returns the `ScenarioResult`. It blocks, so it suits synchronous tests and
async ones alike; `await run_scenario.arun(...)` runs it in the test's own event loop instead.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from cvi_app.live.tools import ToolRegistry
from cvi_app.scenarios.api import ScenarioLike, run_scenarios
from cvi_app.scenarios.api import run_scenario as run_blocking
from cvi_app.scenarios.environment import DEFAULT_PACE, migrated_store, private_store
from cvi_app.scenarios.results import ScenarioResult
from cvi_app.scenarios.runner import RunOptions

__all__ = ["ScenarioFixture", "run_scenario", "scenario_store_template"]


class ScenarioFixture:
    """What the `run_scenario` fixture gives a test: call it with a scenario."""

    def __init__(self, template: Path) -> None:
        self.template = template

    def __call__(
        self,
        scenario: ScenarioLike,
        *,
        pace: float = DEFAULT_PACE,
        options: RunOptions | None = None,
        tools: ToolRegistry | None = None,
    ) -> ScenarioResult:
        """Run `scenario` against a sandbox served for it and return the result."""
        return run_blocking(
            scenario, pace=pace, options=options, tools=tools, template=self.template
        )

    async def arun(
        self,
        scenario: ScenarioLike,
        *,
        pace: float = DEFAULT_PACE,
        options: RunOptions | None = None,
        tools: ToolRegistry | None = None,
    ) -> ScenarioResult:
        """The same, in the running event loop (for async tests)."""
        with private_store(self.template):
            [result] = await run_scenarios([scenario], pace=pace, options=options, tools=tools)
        return result


@pytest.fixture(scope="session")
def scenario_store_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite store migrated to head once per session; each run gets a copy."""
    path = tmp_path_factory.mktemp("scenario-store") / "store.db"
    migrated_store(path)
    return path


@pytest.fixture
def run_scenario(scenario_store_template: Path) -> ScenarioFixture:
    """`run_scenario(path_or_model)`: run a scenario against the sandbox; returns its result."""
    return ScenarioFixture(scenario_store_template)
