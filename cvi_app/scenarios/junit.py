"""Scenario results as JUnit XML: one testsuite per scenario file, one testcase per turn.

The end of the conversation is one more testcase (`end`). A failed turn has a `<failure>` with
every reason; a turn not checked has `<skipped>`; a scenario that could not run has an
`<error>` on each of its turns. Each testcase's `<system-out>` holds what was said and done.
"""

from __future__ import annotations

import json
import os
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path

from cvi_app.scenarios.results import EndResult, ScenarioResult, TurnResult

__all__ = ["junit_xml", "write_junit"]


def _suite_name(result: ScenarioResult) -> str:
    return result.name


def _classname(result: ScenarioResult) -> str:
    return f"scenarios.{Path(result.source).stem or 'scenario'}"


def _turn_case(suite: ET.Element, result: ScenarioResult, turn: TurnResult) -> None:
    said = " ".join(turn.said.split())
    case = ET.SubElement(
        suite,
        "testcase",
        name=f"turn {turn.index}: {said[:100]}",
        classname=_classname(result),
        time=f"{turn.duration_s:.3f}",
    )
    if result.error is not None and turn.status == "failed":
        ET.SubElement(case, "error", message=result.error, type="ScenarioError").text = "\n".join(
            turn.failures
        )
    elif turn.status == "failed":
        ET.SubElement(
            case,
            "failure",
            message=turn.failures[0] if turn.failures else "failed",
            type="expectation",
        ).text = "\n".join(turn.failures)
    elif turn.status == "skipped":
        ET.SubElement(case, "skipped", message=turn.note or "not checked")
    out = [f"said: {turn.said}", f"reply: {turn.reply}"]
    out += [
        f"tool: {tool.name} {json.dumps(tool.arguments, ensure_ascii=False)} -> {tool.status}"
        for tool in turn.tools
    ]
    if turn.latency_s is not None:
        out.append(f"latency: {turn.latency_s:.3f} s")
    ET.SubElement(case, "system-out").text = "\n".join(out)


def _end_case(suite: ET.Element, result: ScenarioResult, end: EndResult) -> None:
    case = ET.SubElement(
        suite,
        "testcase",
        name=f"end: {'hang up' if end.expected == 'hang_up' else 'ends by itself'}",
        classname=_classname(result),
        time="0.000",
    )
    if end.status == "failed":
        ET.SubElement(
            case,
            "failure",
            message=end.failures[0] if end.failures else "failed",
            type="expectation",
        ).text = "\n".join(end.failures)
    elif end.status == "skipped":
        ET.SubElement(case, "skipped", message=end.note or "not checked")
    ET.SubElement(case, "system-out").text = f"end reason: {end.reason or 'none'}"


def junit_xml(results: Sequence[ScenarioResult]) -> bytes:
    """The results as a JUnit XML document (UTF-8, with its declaration)."""
    root = ET.Element("testsuites", name="scenarios")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    elapsed = 0.0
    for result in results:
        cases = len(result.turns) + (1 if result.end is not None else 0)
        errors = 0
        failures = result.failed_count
        if result.error is not None:  # its failed turns did not run: errors, not failures
            errors = sum(turn.status == "failed" for turn in result.turns)
            failures -= errors
        counts: dict[str, int] = {
            "tests": cases,
            "failures": failures,
            "errors": errors,
            "skipped": result.skipped_count,
        }
        attributes = {
            "name": _suite_name(result),
            "file": result.source,
            "timestamp": result.started_at.replace(microsecond=0).isoformat(),
            "time": f"{result.duration_s:.3f}",
            **{key: str(value) for key, value in counts.items()},
        }
        suite = ET.SubElement(root, "testsuite", attributes)
        properties = ET.SubElement(suite, "properties")
        for name, text in (
            ("mode", result.mode),
            ("persona", result.persona),
            ("conversation_id", result.conversation_id or ""),
        ):
            ET.SubElement(properties, "property", name=name, value=text)
        for turn in result.turns:
            _turn_case(suite, result, turn)
        if result.end is not None:
            _end_case(suite, result, result.end)
        if result.notes:
            ET.SubElement(suite, "system-out").text = "\n".join(result.notes)
        for key, count in counts.items():
            totals[key] += count
        elapsed += result.duration_s
    for key, total in totals.items():
        root.set(key, str(total))
    root.set("time", f"{elapsed:.3f}")
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def write_junit(results: Sequence[ScenarioResult], path: Path) -> None:
    """Write the JUnit XML to `path` whole (a temporary file, then renamed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(junit_xml(results))
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
