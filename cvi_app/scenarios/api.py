"""Running scenarios from Python: `await run_scenarios([...])`, or `run_scenario(path)` blocking.

Both run against a sandbox served in this process unless told otherwise, and record the
conversations in a store of their own (see `cvi_app.scenarios.environment`).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from cvi_app.live.tools import ToolRegistry
from cvi_app.scenarios.environment import (
    DEFAULT_PACE,
    Environment,
    Mode,
    open_environment,
    private_store,
)
from cvi_app.scenarios.loading import ScenarioFile, load_scenario, parse_scenario
from cvi_app.scenarios.models import Scenario
from cvi_app.scenarios.results import ScenarioResult
from cvi_app.scenarios.runner import RunOptions, ScenarioRunner

__all__ = ["ScenarioLike", "as_scenario_file", "default_options", "run_scenario", "run_scenarios"]

ScenarioLike = str | Path | Scenario | Mapping[str, Any] | ScenarioFile
"""A scenario file's path, a `Scenario`, its data as a mapping, or a loaded file."""


def as_scenario_file(item: ScenarioLike) -> ScenarioFile:
    """Load or check what stands for a scenario.

    Raises:
        ScenarioFileError: A file or mapping that is not a valid scenario.
    """
    if isinstance(item, ScenarioFile):
        return item
    if isinstance(item, Scenario):
        return ScenarioFile(item, "scenario")
    if isinstance(item, Mapping):
        return ScenarioFile(parse_scenario(dict(item)), "scenario")
    return load_scenario(item)


def default_options(mode: Mode, *, with_replica: bool = False) -> RunOptions:
    """The waits that suit a mode: a real replica joins late and pauses longer than the sandbox's."""
    if mode == "tavus":
        return RunOptions(settle=1.5, greeting_wait=60.0, test_mode=not with_replica)
    return RunOptions()


async def run_scenarios(
    items: Sequence[ScenarioLike],
    *,
    mode: Mode = "sandbox",
    in_process: bool = True,
    pace: float = DEFAULT_PACE,
    options: RunOptions | None = None,
    tools: ToolRegistry | None = None,
    started: Callable[[Environment], None] | None = None,
    finished: Callable[[ScenarioResult], None] | None = None,
) -> list[ScenarioResult]:
    """Run scenarios one after the other in one environment; return their results in order.

    The store the conversations are recorded in is the app's configured database: wrap the
    call in `private_store()` for one of its own (`run_scenario` does).

    Args:
        items: The scenarios.
        mode: `sandbox` or `tavus`.
        in_process: In sandbox mode, always serve a sandbox here (False: use the running app's
            when it can be reached).
        pace: Words a second the replica of a sandbox served here speaks.
        options: Waits and Tavus's test mode (default: `default_options(mode)`).
        tools: The tools the sessions answer (default: the app's).
        started: Called with the environment before the first scenario.
        finished: Called with each result as it comes.

    Raises:
        ScenarioFileError: An item is not a valid scenario (nothing has run).
        ConfigError: The settings do not allow this mode.
    """
    files = [as_scenario_file(item) for item in items]
    async with open_environment(mode, in_process=in_process, pace=pace, tools=tools) as env:
        if started is not None:
            started(env)
        notes = [f"Ran against {env.where}.", *env.notes]
        runner = ScenarioRunner(env.manager, options=options or default_options(mode), notes=notes)
        results = []
        for item in files:
            result = await runner.run(item)
            results.append(result)
            if finished is not None:
                finished(result)
        return results


def run_scenario(
    item: ScenarioLike,
    *,
    pace: float = DEFAULT_PACE,
    options: RunOptions | None = None,
    tools: ToolRegistry | None = None,
    template: Path | None = None,
) -> ScenarioResult:
    """Run one scenario against a sandbox served for it; block until it is over.

    Safe to call from synchronous code and from inside a running event loop (it runs in a
    thread of its own). The conversation is recorded in a throwaway store (a copy of
    `template`, a database migrated to head, when given: quicker).

    Raises:
        ScenarioFileError: `item` is not a valid scenario.
    """
    scenario = as_scenario_file(item)

    def run() -> ScenarioResult:
        with private_store(template):
            [result] = asyncio.run(
                run_scenarios([scenario], pace=pace, options=options, tools=tools)
            )
        return result

    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="scenario") as pool:
        return pool.submit(run).result()
