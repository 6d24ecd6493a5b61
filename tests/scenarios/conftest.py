"""Scenario tests run against the sandbox served in the test's process (see the plugin)."""

from cvi_app.scenarios.pytest_plugin import run_scenario, scenario_store_template

__all__ = ["run_scenario", "scenario_store_template"]
