"""The issue's "done when" past the page: a newcomer's own Python tool is given to a persona
(`tools_sync`), the replica calls it, and a scenario checks that it did, all on the sandbox."""

from __future__ import annotations

import io
from typing import Any

import pytest

from cvi_app.config import Settings
from cvi_app.live.manager import SessionManager
from cvi_app.live.tools import app_tools
from cvi_app.sandbox.catalog import NATHAN_REPLICA_ID
from cvi_app.scenarios.models import Scenario
from cvi_app.scenarios.runner import ScenarioRunner
from cvi_app.tavus import TavusClient
from cvi_app.tools_sync import EXIT_OK, Target, sync_tools
from tests.support.sandbox import SANDBOX_KEY, LiveSandbox

HOST_MODULE = "tests.live.host_tools"  # defines count_stars (and book_table)
TOOLS = app_tools(Settings(CVI_TOOLS_MODULE=HOST_MODULE))  # type: ignore[call-arg]

COUNTS_STARS = {
    "persona": "",  # filled in with the persona the test makes
    "turns": [
        {
            "say": "Please count stars in Orion.",
            "expect": {"tool_called": {"name": "count_stars"}, "reply_contains": ["bright_stars"]},
        }
    ],
}


@pytest.fixture
def manager_options() -> dict[str, Any]:
    """Sessions answer the newcomer's tools (as `CVI_TOOLS_MODULE` makes the app do)."""
    return {"tools": TOOLS}


async def test_a_new_python_tool_is_synced_called_and_checked_by_a_scenario(
    manager: SessionManager, mounted_sandbox: LiveSandbox
) -> None:
    made = await mounted_sandbox.api.post(
        "/v2/personas",
        json={
            "persona_name": "Stargazer",
            "system_prompt": "You know the night sky.",
            "default_replica_id": NATHAN_REPLICA_ID,
        },
    )
    assert made.status_code == 200, made.text
    persona = made.json()["persona_id"]
    scenario = Scenario.model_validate({**COUNTS_STARS, "persona": persona})
    runner = ScenarioRunner(manager)

    # Before the sync the persona has no such tool: the scenario says so.
    before = await runner.run(scenario)
    assert not before.passed
    assert "count_stars was not called" in before.report()

    target = Target("sandbox", f"{mounted_sandbox.root_url}/sandbox/v2", "CVI_SANDBOX_API_KEY")
    out = io.StringIO()
    async with TavusClient(api_key=SANDBOX_KEY, base_url=target.api_base) as client:
        code = await sync_tools(
            client,
            TOOLS.openai_schemas(),
            persona_ids=[persona],
            apply=True,
            target=target,
            out=out,
        )
    assert code == EXIT_OK, out.getvalue()

    after = await runner.run(scenario)
    assert after.passed, after.report()
