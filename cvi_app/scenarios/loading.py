"""Reading scenario files (YAML, or JSON) and saying in plain words what is wrong with one.

A problem names the file, the turn (counted from 1) and the field: `scenarios/x.yaml: turn 2,
expect.latency_under: must be greater than 0 (got -1)`.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from cvi_app.scenarios.models import FIELD_NAMES, Scenario

__all__ = [
    "MAX_FILE_BYTES",
    "SCENARIO_SUFFIXES",
    "ScenarioFile",
    "ScenarioFileError",
    "find_scenario_files",
    "load_scenario",
    "parse_scenario",
]

MAX_FILE_BYTES = 1_000_000
SCENARIO_SUFFIXES = (".yaml", ".yml", ".json")


class ScenarioFileError(ValueError):
    """A scenario file that cannot be used; `problems` are plain sentences, one per problem."""

    def __init__(self, source: str, problems: Sequence[str]) -> None:
        self.source = source
        self.problems = list(problems)
        super().__init__("\n".join(f"{source}: {problem}" for problem in self.problems))


class ScenarioFile:
    """A scenario and where it came from."""

    def __init__(self, scenario: Scenario, source: str) -> None:
        self.scenario = scenario
        self.source = source

    @property
    def title(self) -> str:
        """The scenario's name, else the file's name without its suffix."""
        return self.scenario.title(Path(self.source).stem or self.source)


def find_scenario_files(paths: Iterable[str | Path]) -> list[Path]:
    """The scenario files named, a folder standing for the scenario files in it (sorted).

    Raises:
        ScenarioFileError: A path does not exist, or a folder holds no scenario file.
    """
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            inside = sorted(p for p in path.iterdir() if p.suffix.lower() in SCENARIO_SUFFIXES)
            if not inside:
                raise ScenarioFileError(
                    str(path), ["the folder holds no .yaml, .yml or .json scenario file"]
                )
            found.extend(inside)
        elif path.exists():
            found.append(path)
        else:
            raise ScenarioFileError(str(path), ["no such file or folder"])
    return found


def load_scenario(path: str | Path) -> ScenarioFile:
    """Read and check one scenario file.

    Raises:
        ScenarioFileError: It cannot be read, is not YAML/JSON, or is not a valid scenario.
    """
    path = Path(path)
    source = str(path)
    suffix = path.suffix.lower()
    if suffix not in SCENARIO_SUFFIXES:
        raise ScenarioFileError(source, ["a scenario file ends in .yaml, .yml or .json"])
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ScenarioFileError(
                source, [f"the file is {size} bytes; a scenario is at most {MAX_FILE_BYTES}"]
            )
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ScenarioFileError(source, ["the file is not UTF-8 text"]) from None
    except OSError as exc:
        raise ScenarioFileError(source, [f"the file cannot be read: {exc.strerror}"]) from None
    data = _parse_yaml(text, source) if suffix in (".yaml", ".yml") else _parse_json(text, source)
    return ScenarioFile(parse_scenario(data, source=source), source)


def parse_scenario(data: Any, *, source: str = "scenario") -> Scenario:
    """Check already-read data (a mapping) as a scenario.

    Raises:
        ScenarioFileError: It is not a valid scenario; each problem names its field.
    """
    if data is None:
        raise ScenarioFileError(source, ["the file is empty"])
    if not isinstance(data, dict):
        raise ScenarioFileError(
            source,
            [f"a scenario is a mapping with `persona` and `turns`, not {_kind(data)}"],
        )
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioFileError(source, [_problem(error) for error in exc.errors()]) from None


def _parse_yaml(text: str, source: str) -> Any:
    try:
        import yaml
    except ImportError:
        raise ScenarioFileError(
            source,
            ["reading YAML needs PyYAML (pip install pyyaml); or write the scenario as JSON"],
        ) from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ScenarioFileError(source, [f"not valid YAML{where}: {problem}"]) from None


def _parse_json(text: str, source: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ScenarioFileError(
            source, [f"not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"]
        ) from None


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    return f"a {type(value).__name__}"


def _where(loc: Sequence[int | str]) -> str:
    """`("turns", 1, "expect", "tool_called", 0, "name")` as `turn 2, expect.tool_called[1].name`."""
    parts = list(loc)
    prefix = ""
    if len(parts) >= 2 and parts[0] == "turns" and isinstance(parts[1], int):
        prefix = f"turn {parts[1] + 1}"
        parts = parts[2:]
    path = ""
    for part in parts:
        if isinstance(part, int):
            path += f"[{part + 1}]"
        else:
            path += ("." if path else "") + str(part)
    if prefix and path:
        return f"{prefix}, {path}"
    return prefix or path or "the scenario"


_PLAIN = {
    "model_type": "must be a mapping (key: value lines)",
    "model_attributes_type": "must be a mapping (key: value lines)",
    "dict_type": "must be a mapping (key: value lines)",
    "list_type": "must be a list",
    "string_type": "must be text",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
}


def _problem(error: Any) -> str:
    loc = tuple(error.get("loc", ()))
    kind = error.get("type", "")
    where = _where(loc)
    if kind == "missing":
        return f"{where}: is required"
    if kind == "extra_forbidden":
        name = str(loc[-1]) if loc else ""
        close = difflib.get_close_matches(name, FIELD_NAMES, n=1)
        hint = f" (did you mean `{close[0]}`?)" if close else ""
        return f"{where}: is not a field a scenario has{hint}"
    message = _PLAIN.get(kind) or str(error.get("msg", "is not valid"))
    message = message.removeprefix("Value error, ")
    message = message[:1].lower() + message[1:]
    message = message.replace("input should be", "must be")
    shown = error.get("input")
    got = ""
    if not isinstance(shown, dict | list) and shown is not None:
        text = repr(shown)
        got = f" (got {text if len(text) <= 60 else text[:59] + '…'})"
    return f"{where}: {message}{got}"
