"""Kept results are bounded and replaced whole; JUnit XML is well-formed with every failure."""

from __future__ import annotations

import json
import threading
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from reflex.config import reload_config

from cvi_app.config import get_settings
from cvi_app.scenarios import EndResult, ScenarioResult, ToolSeen, TurnResult
from cvi_app.scenarios.junit import junit_xml, write_junit
from cvi_app.scenarios.store import RESULTS_ENV, keep_results, read_results, results_dir


def _result(name: str, *, failed: bool = False, at: datetime | None = None) -> ScenarioResult:
    turn = TurnResult(
        index=1,
        said="Where is my order A-1001?",
        status="failed" if failed else "passed",
        failures=["expected the reply to contain 'shipped', it said: \"...\""] if failed else [],
        reply="Here is what lookup_order returned: status: out for delivery",
        tools=[ToolSeen(name="lookup_order", arguments={"order_id": "A-1001"}, status="success")],
        latency_s=0.25,
        duration_s=1.0,
    )
    return ScenarioResult(
        name=name,
        source=f"scenarios/{name}.yaml",
        mode="sandbox",
        persona="Support Agent (pb2f1d4e6a02)",
        started_at=at or datetime.now(UTC),
        turns=[turn],
        end=EndResult(status="passed", reason="end_conversation_endpoint_hit"),
    )


def test_results_are_kept_newest_first_and_bounded(tmp_path: Path) -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for index in range(25):
        keep_results([_result(f"run-{index}", at=start + timedelta(minutes=index))], tmp_path)

    kept = read_results(tmp_path)
    assert [r.name for r in kept] == [f"run-{i}" for i in range(24, 4, -1)]
    assert len(json.loads((tmp_path / "runs.json").read_text())["runs"]) == 20
    # Replaced whole each time: no temporary file is left beside it.
    assert sorted(p.name for p in tmp_path.iterdir()) == [".lock", "runs.json"]

    keep_results([_result("a"), _result("b")], tmp_path, keep=3)
    assert [r.name for r in read_results(tmp_path)] == ["b", "a", "run-24"]


def test_runs_finishing_together_are_all_kept(tmp_path: Path) -> None:
    threads = [
        threading.Thread(target=keep_results, args=([_result(f"t{i}")], tmp_path)) for i in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r.name for r in read_results(tmp_path)) == [f"t{i}" for i in range(8)]


def test_an_unreadable_results_file_reads_as_none_and_is_replaced(tmp_path: Path) -> None:
    (tmp_path / "runs.json").write_text("{not json")
    assert read_results(tmp_path) == []
    keep_results([_result("fresh")], tmp_path)
    assert [r.name for r in read_results(tmp_path)] == ["fresh"]
    assert read_results(tmp_path / "nowhere") == []


def test_results_live_beside_the_sqlite_database_unless_configured(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(RESULTS_ENV, raising=False)
    get_settings.cache_clear()
    monkeypatch.setenv("REFLEX_DB_URL", f"sqlite:///{tmp_path / 'app' / 'app.db'}")
    reload_config()
    try:
        assert results_dir() == tmp_path / "app" / "scenarios"
        monkeypatch.setenv("REFLEX_DB_URL", "sqlite:///.data/cvi_studio.db")
        reload_config()
        assert results_dir() == Path(".data") / "scenarios"
        monkeypatch.setenv(RESULTS_ENV, str(tmp_path / "elsewhere"))
        get_settings.cache_clear()
        assert results_dir() == tmp_path / "elsewhere"
    finally:
        monkeypatch.undo()
        reload_config()
        get_settings.cache_clear()


def test_junit_has_one_suite_per_scenario_and_a_case_per_turn_and_the_end() -> None:
    passed, failed = _result("passing"), _result("failing", failed=True)
    not_run = _result("not-run", failed=True).model_copy(
        update={"error": "no persona has the id or name 'x'", "end": None}
    )
    skipped = _result("skipped").model_copy(
        update={
            "turns": [TurnResult(index=1, said="Hi", status="skipped", note="not checked")],
            "end": EndResult(status="skipped", note="not checked"),
        }
    )

    root = ET.fromstring(junit_xml([passed, failed, not_run, skipped]))

    assert root.tag == "testsuites"
    assert {k: root.get(k) for k in ("tests", "failures", "errors", "skipped")} == {
        "tests": "7",
        "failures": "1",
        "errors": "1",
        "skipped": "2",
    }
    suites = {suite.get("name"): suite for suite in root.findall("testsuite")}
    assert list(suites) == ["passing", "failing", "not-run", "skipped"]
    assert suites["failing"].get("file") == "scenarios/failing.yaml"
    [failure] = suites["failing"].iter("failure")
    assert failure.get("message", "").startswith("expected the reply to contain 'shipped'")
    [error] = suites["not-run"].iter("error")
    assert error.get("message") == "no persona has the id or name 'x'"
    assert len(list(suites["skipped"].iter("skipped"))) == 2
    out = suites["passing"].find("testcase/system-out")
    assert out is not None and 'lookup_order {"order_id": "A-1001"} -> success' in (out.text or "")


def test_junit_is_written_whole(tmp_path: Path) -> None:
    path = tmp_path / "reports" / "scenarios.xml"
    write_junit([_result("one")], path)
    assert ET.parse(path).getroot().get("tests") == "2"
    assert [p.name for p in path.parent.iterdir()] == ["scenarios.xml"]
