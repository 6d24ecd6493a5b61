"""Benchmark results: one row per measurement, printed as one table and written as JSON."""

from __future__ import annotations

import json
import platform
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

Status = Literal["met", "missed", "info", "failed"]

RESULTS_PATH = Path(__file__).resolve().parent / "results.json"


@dataclass
class Row:
    """One measurement: its value, the target, what it is compared with, and the verdict.

    `comparison` is the other number measured in the same run that the value is judged against
    (the floor, the naive pattern, the same metric at a shorter history).
    """

    section: str
    name: str
    value: float | None
    unit: str
    target: str = ""
    comparison: str = ""
    status: Status = "info"
    note: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def shown_value(self) -> str:
        """The value with its unit, as the table shows it."""
        if self.value is None:
            return "n/a"
        return f"{format_number(self.value)} {self.unit}".strip()


def format_number(value: float) -> str:
    """A number with as many digits as are worth reading."""
    magnitude = abs(value)
    if magnitude >= 1000:
        return f"{value:,.0f}"
    if magnitude >= 100:
        return f"{value:.0f}"
    if magnitude >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def verdict(ok: bool) -> Status:
    """`met` or `missed`."""
    return "met" if ok else "missed"


def render_table(rows: list[Row]) -> str:
    """The rows as one plain-text table, followed by the notes of rows that have one."""
    headers = ["section", "benchmark", "measured", "target", "compared with (same run)", "result"]
    cells = [
        [r.section, r.name, r.shown_value, r.target or "-", r.comparison or "-", r.status.upper()]
        for r in rows
    ]
    widths = [
        max(len(h), *(len(c[i]) for c in cells)) if cells else len(h) for i, h in enumerate(headers)
    ]
    widths = [min(w, 60) for w in widths]

    def line(values: list[str]) -> str:
        return "  ".join(_fit(v, w).ljust(w) for v, w in zip(values, widths, strict=True)).rstrip()

    out = [line(headers), line(["-" * w for w in widths])]
    out += [line(c) for c in cells]
    notes = [(i, r) for i, r in enumerate(rows, 1) if r.note or len(r.comparison) > 60]
    if notes:
        out.append("")
        out.append("Notes")
        for _, r in notes:
            text = r.note
            if len(r.comparison) > 60:
                text = f"compared with: {r.comparison}" + (f"; {text}" if text else "")
            out.append(f"- {r.section} / {r.name} [{r.status}]: {text}")
    return "\n".join(out)


def _fit(value: str, width: int) -> str:
    return value if len(value) <= width else value[: width - 1] + "…"


def write_results(
    rows: list[Row], *, path: Path = RESULTS_PATH, meta: dict[str, Any] | None = None
) -> Path:
    """Write every row (and how the run was made) as JSON."""
    document = {
        "generated_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": {"python": platform.python_version(), "cpus": _cpu_count()},
        **(meta or {}),
        "rows": [asdict(r) for r in rows],
    }
    path.write_text(json.dumps(document, indent=2, default=str) + "\n")
    return path


def _cpu_count() -> int | None:
    import os

    return os.cpu_count()
