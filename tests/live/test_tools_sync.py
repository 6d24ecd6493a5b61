"""`python -m cvi_app.tools_sync`: the Python tools become the persona's, over the sandbox's REST
API on real HTTP; then the simulated replica calls a synced tool and hears the registry's answer."""

from __future__ import annotations

import asyncio
import copy
import io
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonpatch
import pytest

from cvi_app.config import Settings
from cvi_app.live.tools import ToolRegistry, app_tools
from cvi_app.protocol import ToolCallEvent, ToolResultInteraction
from cvi_app.sandbox.catalog import (
    DEFAULT_REPLICA_ID,
    EXAMPLE_PERSONA_ID,
    SUPPORT_PERSONA_ID,
)
from cvi_app.tavus import TavusClient
from cvi_app.tools_sync import EXIT_FAILED, EXIT_OK, Target, plan_persona, sync_tools
from tests.live.conftest import Live
from tests.support.sandbox import SANDBOX_KEY, LiveSandbox
from tests.support.servers import free_port

ROOT = Path(__file__).resolve().parents[2]
HOST_MODULE = "tests.live.host_tools"
COMMAND_TIMEOUT = 120.0

FOREIGN = {
    "type": "function",
    "function": {
        "name": "book_flight",
        "description": "Book a flight (answered by another service).",
        "parameters": {
            "type": "object",
            "properties": {"to": {"type": "string"}},
            "required": ["to"],
        },
    },
}
STALE_WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "An old description.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}


def definitions() -> list[dict[str, Any]]:
    """What the command computes: the host module's tools and the demo tools."""
    return app_tools(Settings(CVI_TOOLS_MODULE=HOST_MODULE)).openai_schemas()


def names(tools: list[dict[str, Any]]) -> list[str]:
    return [tool["function"]["name"] for tool in tools]


# ---- the plan: which tools change, and the JSON Patch ----------------------------------------


def test_a_persona_without_tools_gets_them_added_where_its_document_ends() -> None:
    defs = definitions()
    cases: list[tuple[dict[str, Any], str, str]] = [
        ({}, "add", "/layers"),
        ({"layers": None}, "replace", "/layers"),
        ({"layers": {"stt": {"stt_engine": "tavus-auto"}}}, "add", "/layers/llm"),
        ({"layers": {"llm": {"model": "tavus-gpt-4o"}}}, "add", "/layers/llm/tools"),
    ]
    for document, op, path in cases:
        plan = plan_persona("p1", "One", document, defs)
        assert [(o["op"], o["path"]) for o in plan.operations] == [(op, path)], document
        patched = jsonpatch.apply_patch(document, plan.operations)
        assert patched["layers"]["llm"]["tools"] == defs
        assert [c.action for c in plan.changes] == ["add"] * len(defs)
    kept = plan_persona("p1", "One", {"layers": {"stt": {"x": 1}}}, defs)
    assert jsonpatch.apply_patch({"layers": {"stt": {"x": 1}}}, kept.operations)["layers"]["stt"]


def test_registered_tools_are_replaced_in_place_and_others_kept() -> None:
    defs = definitions()
    weather = next(d for d in defs if d["function"]["name"] == "get_weather")
    duplicate = copy.deepcopy(STALE_WEATHER)
    document = {"layers": {"llm": {"tools": [FOREIGN, STALE_WEATHER, weather, duplicate]}}}
    plan = plan_persona("p1", "One", document, defs)
    assert [(c.name, c.action) for c in plan.changes] == [
        ("book_flight", "keep"),
        ("get_weather", "update"),
        ("get_weather", "drop"),
        ("get_weather", "drop"),
        ("book_table", "add"),
        ("count_stars", "add"),
        ("lookup_order", "add"),
    ]
    assert plan.changes[1].detail == "description, parameters"
    assert plan.changes[0].describe() == "keep    book_flight (kept, not a Python tool)"
    patched = jsonpatch.apply_patch(document, plan.operations)
    assert patched["layers"]["llm"]["tools"] == list(plan.tools)
    assert names(list(plan.tools)) == [
        "book_flight",
        "get_weather",
        "book_table",
        "count_stars",
        "lookup_order",
    ]
    assert plan.tools[0] == FOREIGN
    again = plan_persona("p1", "One", patched, defs)
    assert again.up_to_date and again.operations == []
    assert [c.action for c in again.changes] == ["keep"] + ["same"] * 4
    assert document["layers"]["llm"]["tools"][1] == STALE_WEATHER, "the input is left as it was"


# ---- the command, in a subprocess, against the sandbox the app mounts -------------------------


@dataclass
class Ran:
    code: int
    out: str
    err: str


async def run_command(sandbox: LiveSandbox | None, *args: str, **env: str) -> Ran:
    """`python -m cvi_app.tools_sync ARGS` in the repository, in sandbox mode against `sandbox`."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("TAVUS_", "CVI_"))}
    settings = {
        "CVI_PUBLIC_URL": sandbox.root_url if sandbox else "http://127.0.0.1:9",
        "CVI_SANDBOX_API_KEY": SANDBOX_KEY,
        "CVI_TOOLS_MODULE": HOST_MODULE,
        "CVI_WEBHOOK_SECRET": "w" * 32,
        "CVI_SECRET_KEY": "s" * 40,
        "PYTHONPATH": str(ROOT),
    }
    settings.update(env)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "cvi_app.tools_sync",
        *args,
        cwd=ROOT,
        env={**clean, **{k: v for k, v in settings.items() if v}},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), COMMAND_TIMEOUT)
    assert process.returncode is not None
    return Ran(process.returncode, out.decode(), err.decode())


async def persona_tools(sandbox: LiveSandbox, persona_id: str) -> list[dict[str, Any]]:
    response = await sandbox.api.get(f"/v2/personas/{persona_id}")
    assert response.status_code == 200, response.text
    [persona] = response.json()["data"]
    tools: list[dict[str, Any]] = persona["layers"]["llm"]["tools"]
    return tools


async def new_persona(sandbox: LiveSandbox, *tools: dict[str, Any]) -> str:
    response = await sandbox.api.post(
        "/v2/personas",
        json={
            "persona_name": "Front Desk",
            "system_prompt": "You help guests.",
            "default_replica_id": DEFAULT_REPLICA_ID,
            "layers": {"llm": {"model": "tavus-gpt-4o", "tools": list(tools)}},
        },
    )
    assert response.status_code == 200, response.text
    persona_id: str = response.json()["persona_id"]
    return persona_id


async def test_a_dry_run_prints_the_change_and_the_patch_and_changes_nothing(
    mounted_sandbox: LiveSandbox,
) -> None:
    persona_id = await new_persona(mounted_sandbox, FOREIGN, STALE_WEATHER)

    ran = await run_command(mounted_sandbox)

    assert ran.code == EXIT_OK, ran.out + ran.err
    out = ran.out
    assert "Python tools (4): book_table, count_stars, get_weather, lookup_order" in out
    assert f"API: sandbox mode, {mounted_sandbox.root_url}/sandbox/v2" in out
    # The catalog's personas that can change: the stock ones are named as skipped.
    assert "Skipped 3 stock persona(s), which cannot be changed" in out
    assert f'Persona "Front Desk" ({persona_id}):' in out
    assert f'Persona "Life Coach" ({EXAMPLE_PERSONA_ID}):' in out
    section = out.split(f"({persona_id}):", 1)[1].split("\n\n", 1)[0]
    assert "  keep    book_flight (kept, not a Python tool)\n" in section
    assert "  update  get_weather (description, parameters)\n" in section
    assert "  add     book_table\n  add     count_stars\n  add     lookup_order\n" in section
    operations = json.loads(section.split("operations):\n", 1)[1])
    assert {op["op"] for op in operations} <= {"add", "replace", "remove"}
    assert all(op["path"].startswith("/layers/llm/tools") for op in operations)
    assert (
        "Dry run: 2 personas would change. Nothing was sent: run again with --apply (or make sync-tools)"
        in out
    )
    # Nothing was sent: the persona's tools are as they were.
    assert await persona_tools(mounted_sandbox, persona_id) == [FOREIGN, STALE_WEATHER]
    assert await persona_tools(mounted_sandbox, EXAMPLE_PERSONA_ID) == []


async def test_apply_gives_the_persona_the_definitions_keeps_its_own_and_then_is_up_to_date(
    mounted_sandbox: LiveSandbox,
) -> None:
    persona_id = await new_persona(mounted_sandbox, FOREIGN, STALE_WEATHER)

    ran = await run_command(mounted_sandbox, "--persona", persona_id, "--apply")

    assert ran.code == EXIT_OK, ran.out + ran.err
    assert "  Applied: its LLM now has 5 tool(s)." in ran.out
    assert "Applied to 1 persona." in ran.out
    tools = await persona_tools(mounted_sandbox, persona_id)
    ours = [tool for tool in tools if tool["function"]["name"] != "book_flight"]
    assert sorted(ours, key=lambda t: t["function"]["name"]) == definitions()
    assert FOREIGN in tools, "a tool that is not a Python tool is kept"
    # Only the one persona named was changed.
    assert await persona_tools(mounted_sandbox, EXAMPLE_PERSONA_ID) == []

    again = await run_command(mounted_sandbox, "--persona", persona_id, "--apply")

    assert again.code == EXIT_OK, again.out + again.err
    assert (
        f'Persona "Front Desk" ({persona_id}): already up to date (4 Python tools, '
        "1 other tool(s) kept)." in again.out
    )
    assert "Applied to 0 personas; 1 already up to date." in again.out
    assert await persona_tools(mounted_sandbox, persona_id) == tools


@pytest.mark.parametrize(
    ("case", "says"),
    [
        ("unknown", "Persona pnotthere123: not found: the API knows no persona with this id."),
        ("stock", "a stock persona, which cannot be changed"),
        ("wrong-key", "the API refused the key (HTTP 401): set CVI_SANDBOX_API_KEY to the key"),
        ("down", "did not answer"),
    ],
)
async def test_a_persona_that_cannot_be_synced_is_said_plainly_and_exits_1(
    mounted_sandbox: LiveSandbox, case: str, says: str
) -> None:
    args = {"unknown": ["--persona", "pnotthere123"], "stock": ["--persona", SUPPORT_PERSONA_ID]}
    env = {
        "wrong-key": {"CVI_SANDBOX_API_KEY": "not-the-key"},
        "down": {"CVI_PUBLIC_URL": f"http://127.0.0.1:{free_port()}"},
    }
    ran = await run_command(mounted_sandbox, *args.get(case, []), "--apply", **env.get(case, {}))
    assert ran.code == EXIT_FAILED, ran.out + ran.err
    assert says in ran.out
    assert "Traceback" not in ran.err
    if case == "down":
        assert "start it (make run)" in ran.out


async def test_a_partial_failure_still_syncs_the_other_personas(
    mounted_sandbox: LiveSandbox,
) -> None:
    persona_id = await new_persona(mounted_sandbox)
    ran = await run_command(
        mounted_sandbox, "--persona", "pnotthere123", "--persona", persona_id, "--apply"
    )
    assert ran.code == EXIT_FAILED
    assert "Applied to 1 persona. 1 could not be synced (see above)." in ran.out
    assert names(await persona_tools(mounted_sandbox, persona_id)) == names(definitions())


@pytest.mark.parametrize(
    ("env", "says"),
    [
        (
            {"CVI_TOOLS_MODULE": "no_such_tools_module_42"},
            "CVI_TOOLS_MODULE='no_such_tools_module_42'",
        ),
        ({"CVI_SANDBOX_API_KEY": ""}, "CVI_SANDBOX_API_KEY: in sandbox mode"),
        ({"CVI_TOOLS_MODULE": "bad name"}, "CVI_TOOLS_MODULE"),
    ],
    ids=["tools-module", "no-sandbox-key", "bad-setting"],
)
async def test_unusable_settings_stop_the_command_before_any_request(
    env: dict[str, str], says: str
) -> None:
    ran = await run_command(None, **env)
    assert ran.code == 2, ran.out + ran.err
    assert says in ran.err
    assert ran.out == ""
    assert "Traceback" not in ran.err


# ---- a synced tool, called by the simulated replica in a conversation ------------------------


async def test_the_replica_calls_a_newly_synced_tool_and_hears_the_registrys_answer(
    mounted_sandbox: LiveSandbox, open_session: Any
) -> None:
    tools: ToolRegistry = app_tools(Settings(CVI_TOOLS_MODULE=HOST_MODULE))
    persona_id = await new_persona(mounted_sandbox, FOREIGN)

    async def ask(live: Live, text: str) -> None:
        await live.seen.wait(lambda: live.seen.turns_finished() >= 1, "the greeting")
        turns = live.seen.turns_finished()
        await live.session.respond(text)
        await live.seen.wait(lambda: live.seen.turns_finished() > turns, "the reply")

    # Before the sync the persona has no count_stars: the replica does not call it.
    before = await open_session(where=mounted_sandbox, tools=tools, persona_id=persona_id)
    await ask(before, "Please count stars in Orion.")
    assert not [e for e in before.seen.events() if isinstance(e, ToolCallEvent)]

    out = io.StringIO()
    target = Target("sandbox", f"{mounted_sandbox.root_url}/sandbox/v2", "CVI_SANDBOX_API_KEY")
    async with TavusClient(api_key=SANDBOX_KEY, base_url=target.api_base) as client:
        code = await sync_tools(
            client,
            tools.openai_schemas(),
            persona_ids=[persona_id],
            apply=True,
            target=target,
            out=out,
        )
    assert code == EXIT_OK, out.getvalue()

    live = await open_session(where=mounted_sandbox, tools=tools, persona_id=persona_id)
    seen = live.seen
    await ask(live, "Please count stars in Orion.")
    await seen.wait(lambda: any("count_stars returned" in s for s in seen.replica_lines()), "it")

    [call] = [e for e in seen.events() if isinstance(e, ToolCallEvent)]
    assert call.properties.name == "count_stars"
    expected = await tools.run("count_stars", {})
    [result] = [
        s.interaction for s in seen.sent() if isinstance(s.interaction, ToolResultInteraction)
    ]
    assert result.event_type == "conversation.tool_result"
    assert result.properties.tool_call_id == call.properties.tool_call_id
    assert (result.properties.status, result.properties.output) == ("success", expected.output)
    assert "bright_stars: 7" in seen.replica_lines()[-1]

    # A call the tool cannot take (no party, no time) is answered too, with the error.
    await ask(live, "Can you book table for two?")
    await seen.wait(lambda: any("book_table failed" in s for s in seen.replica_lines()), "it")
    errors = [
        s.interaction
        for s in seen.sent()
        if isinstance(s.interaction, ToolResultInteraction)
        and s.interaction.properties.status == "error"
    ]
    assert len(errors) == 1
    assert errors[0].properties.output.startswith("invalid arguments: party: Field required")
