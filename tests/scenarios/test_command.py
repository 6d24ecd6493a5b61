"""`python -m cvi_app.scenarios`: its output, exit status, JUnit XML and kept results."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from cvi_app.sandbox.app import create_sandbox_app
from cvi_app.scenarios.store import read_results
from tests.support.servers import free_port, serve_asgi

ROOT = Path(__file__).resolve().parents[2]

PASSING = """\
name: Remembers Sam
persona: Sandbox Assistant
turns:
  - say: My name is Sam
  - say: What is my name?
    expect:
      reply_contains: sam
"""

FAILING = """\
name: Expects what does not come
persona: Support Agent
turns:
  - say: Where is my order A-1001?
    expect:
      reply_contains: [shipped]
      latency_under: 0.001
  - say: Good morning
    expect:
      tool_called: {name: lookup_order, arguments: {order_id: A-1001}}
"""


def _command(
    *args: str, results: Path, extra: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TAVUS_", "CVI_"))}
    env["CVI_SCENARIO_RESULTS"] = str(results)
    env.update(extra or {})
    return subprocess.run(
        [sys.executable, "-m", "cvi_app.scenarios", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_a_run_with_a_failure_exits_1_says_why_and_writes_junit_and_results(
    tmp_path: Path,
) -> None:
    (tmp_path / "a_passing.yaml").write_text(PASSING)
    (tmp_path / "b_failing.yaml").write_text(FAILING)
    junit = tmp_path / "out" / "junit.xml"
    results = tmp_path / "results"

    done = _command(
        "run",
        str(tmp_path),
        "--junit",
        str(junit),
        "--in-process",
        "--pace",
        "100",
        results=results,
    )

    assert done.returncode == 1, done.stdout + done.stderr
    out = done.stdout
    assert "Running 2 scenarios in sandbox mode against a sandbox served in this process" in out
    assert 'Scenario "Remembers Sam"' in out and ": passed" in out
    assert 'Scenario "Expects what does not come"' in out and ": FAILED" in out
    assert (
        "expected the reply to contain 'shipped', it said: \"Here is what lookup_order "
        'returned: order_id: A-1001, status: out for delivery"'
    ) in out
    assert "s over the 0.001 s bound" in out
    assert "lookup_order was not called" in out
    assert "2 scenarios: 1 passed, 1 failed." in out
    assert f"JUnit XML: {junit}" in out

    root = ET.parse(junit).getroot()
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("6", "2", "0")
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == ["Remembers Sam", "Expects what does not come"]
    assert [s.get("file") for s in suites] == [
        str(tmp_path / "a_passing.yaml"),
        str(tmp_path / "b_failing.yaml"),
    ]
    cases = suites[1].findall("testcase")
    assert [c.get("name") for c in cases] == [
        "turn 1: Where is my order A-1001?",
        "turn 2: Good morning",
        "end: hang up",
    ]
    first = cases[0].find("failure")
    assert first is not None
    assert first.get("message", "").startswith("expected the reply to contain 'shipped'")
    assert "over the 0.001 s bound" in (first.text or "")
    second = cases[1].find("failure")
    assert second is not None and second.get("message") == "lookup_order was not called"
    assert cases[2].find("failure") is None
    assert all(c.find("failure") is None for c in suites[0].findall("testcase"))

    kept = read_results(results)
    assert [r.name for r in kept] == ["Expects what does not come", "Remembers Sam"]
    assert kept[0].failures()[0].startswith("Turn 1: expected the reply to contain 'shipped'")
    assert f"Results kept in {results / 'runs.json'}" in out


def test_a_bad_file_exits_2_naming_the_file_and_each_field_and_runs_nothing(
    tmp_path: Path,
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "turns:\n"
        "  - say: Hello\n"
        "    expect:\n"
        "      reply_contain: hello\n"
        "      latency_under: -1\n"
        "end:\n"
        "  by: whenever\n"
    )
    (tmp_path / "good.yaml").write_text(PASSING)
    results = tmp_path / "results"

    done = _command("run", str(tmp_path), "--in-process", results=results)

    assert done.returncode == 2, done.stdout + done.stderr
    problems = done.stderr.splitlines()
    assert f"{bad}: persona: is required" in problems
    assert (
        f"{bad}: turn 1, expect.reply_contain: is not a field a scenario has "
        "(did you mean `reply_contains`?)"
    ) in problems
    assert f"{bad}: turn 1, expect.latency_under: must be greater than 0 (got -1)" in problems
    assert any(p.startswith(f"{bad}: end.by: must be 'hang_up' or 'timeout'") for p in problems)
    assert "Running" not in done.stdout
    assert not results.exists()


def test_a_file_that_is_not_yaml_or_json_exits_2_with_where(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("persona: Support Agent\nturns: [\n")
    listed = tmp_path / "listed.json"
    listed.write_text(json.dumps([{"say": "hi"}]))

    done = _command(
        "check", str(broken), str(listed), str(tmp_path / "missing.yaml"), results=tmp_path / "r"
    )

    assert done.returncode == 2
    problems = done.stderr.splitlines()
    assert problems[0].startswith(f"{tmp_path / 'missing.yaml'}: no such file or folder")
    assert problems[1].startswith(f"{broken}: not valid YAML at line 3, column 1: ")
    assert problems[2] == (
        f"{listed}: a scenario is a mapping with `persona` and `turns`, not a list"
    )


def test_check_reads_files_and_exits_0_when_they_are_usable(tmp_path: Path) -> None:
    done = _command("check", str(ROOT / "scenarios"), results=tmp_path / "r")

    assert done.returncode == 0, done.stderr
    assert "support_agent_order.yaml: Support Agent looks up an order, 1 turn: usable" in (
        done.stdout
    )


def test_a_running_apps_sandbox_is_used_when_its_key_is_known(tmp_path: Path) -> None:
    (tmp_path / "sam.yaml").write_text(PASSING)
    app = create_sandbox_app(
        api_key="shared-key-for-the-test", words_per_second=100.0, prefixes=("/sandbox",)
    )
    with serve_asgi(app) as root:
        done = _command(
            "run",
            str(tmp_path / "sam.yaml"),
            "--no-record",
            results=tmp_path / "r",
            extra={"CVI_PUBLIC_URL": root, "CVI_SANDBOX_API_KEY": "shared-key-for-the-test"},
        )
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"against the running app's sandbox at {root}/sandbox/v2" in done.stdout
    assert "Results kept" not in done.stdout
    assert not (tmp_path / "r").exists()


def test_without_a_reachable_app_a_sandbox_is_served_in_process(tmp_path: Path) -> None:
    (tmp_path / "sam.yaml").write_text(PASSING)
    done = _command(
        "run",
        str(tmp_path / "sam.yaml"),
        "--pace",
        "100",
        results=tmp_path / "r",
        extra={"CVI_PUBLIC_URL": f"http://127.0.0.1:{free_port()}"},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "against a sandbox served in this process at http://127.0.0.1:" in done.stdout
    assert len(read_results(tmp_path / "r")) == 1


def test_tavus_mode_without_a_key_exits_2_and_says_what_is_missing(tmp_path: Path) -> None:
    (tmp_path / "sam.yaml").write_text(PASSING)
    done = _command("run", str(tmp_path / "sam.yaml"), "--mode", "tavus", results=tmp_path / "r")
    assert done.returncode == 2
    assert "--mode tavus needs TAVUS_API_KEY" in done.stderr
    with_replica = _command("run", str(tmp_path), "--with-replica", results=tmp_path / "r")
    assert with_replica.returncode == 2
    assert "--with-replica goes with --mode tavus" in with_replica.stderr
