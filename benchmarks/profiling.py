"""Where the time goes when a target is missed: py-spy samples of a process, summarised.

py-spy (a sampling profiler, `pip install py-spy`) attaches to a running process without
changing it; `--nonblocking` keeps it from pausing the target. Only threads on the CPU are
sampled, so the summary is CPU time, not waiting.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import shutil
import sys
import tempfile
from collections import Counter
from collections.abc import Awaitable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^:()]*)(?::\d+)?\)$")


@dataclass(frozen=True)
class Profile:
    """Top functions by own CPU time and by inclusive time, as shares of all samples."""

    samples: int
    self_top: list[tuple[str, float]]
    inclusive_top: list[tuple[str, float]]

    def note(self, what: str, *, top: int = 5) -> str:
        """A one-line summary for the results table."""
        if not self.samples:
            return f"py-spy on {what}: no samples"
        own = ", ".join(f"{name} {share:.0%}" for name, share in self.self_top[:top])
        incl = ", ".join(f"{name} {share:.0%}" for name, share in self.inclusive_top[:top])
        return f"{what} ({self.samples} busy samples): top own time: {own}; top inclusive: {incl}"


def py_spy() -> str | None:
    """The py-spy executable, if installed."""
    candidate = Path(sys.executable).with_name("py-spy")
    return str(candidate) if candidate.exists() else shutil.which("py-spy")


async def profile_while(pid: int, seconds: float, load: Awaitable[object]) -> Profile | None:
    """Sample `pid` for `seconds` while `load` runs; None when py-spy is not available."""
    exe = py_spy()
    if exe is None:
        logger.warning("py-spy is not installed: no profile")
        await load
        return None
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "raw.txt"
        proc = await asyncio.create_subprocess_exec(
            exe,
            "record",
            "--pid",
            str(pid),
            "--duration",
            str(max(1, round(seconds))),
            "--rate",
            "200",
            "--format",
            "raw",
            "--nonblocking",
            "-o",
            str(out),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        await load
        _, err = await proc.communicate()
        if proc.returncode != 0 or not out.exists():
            logger.warning("py-spy failed: %s", err.decode(errors="replace")[-500:])
            return None
        return summarise(out.read_text())


def summarise(raw: str, *, top: int = 8) -> Profile:
    """Summarise py-spy's raw (collapsed stacks) output."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in raw.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [_name(frame) for frame in stack.split(";") if frame]
        if not frames or frames[-1] in _IDLE:
            continue
        total += count
        own[frames[-1]] += count
        for name in set(frames):
            if _is_app_code(name):
                inclusive[name] += count
    shares = lambda c: [(name, n / total) for name, n in c.most_common(top)]  # noqa: E731
    return Profile(samples=total, self_top=shares(own), inclusive_top=shares(inclusive))


def _name(frame: str) -> str:
    match = _FRAME.match(frame.strip())
    if match is None:
        return frame.strip()
    path = match["file"]
    for marker in ("site-packages/", "lib/python3.11/", "/work/main/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{match['func']} ({path})"


def _is_app_code(name: str) -> bool:
    return ("cvi_app/" in name or "reflex" in name) and name not in _ENTRY_POINTS


# Frames where a thread waits rather than works (py-spy sometimes samples them as active).
_IDLE = {
    "select (selectors.py)",
    "EpollSelector.select (selectors.py)",
    "_worker (concurrent/futures/thread.py)",
    "wait (threading.py)",
    "_run_once (asyncio/base_events.py)",
}
# The backend's entry frames: on every stack, so they say nothing.
_ENTRY_POINTS = {
    "<module> (reflex)",
    "run (reflex/reflex.py)",
    "_run (reflex/reflex.py)",
    "_run_prod (reflex/reflex.py)",
    "run_backend_prod (reflex/utils/exec.py)",
    "run_backend (reflex/utils/exec.py)",
}


TRACE_CATEGORIES = ["toplevel", "devtools.timeline", "blink", "v8.execute"]
# Renderer main-thread work, grouped as Chromium's performance panel groups it. Kinds may
# overlap (a layout forced by a script runs inside that script); each kind's time is the union
# of its events' intervals, so nesting within a kind is not counted twice.
_TRACE_KINDS = {
    "script": ("FunctionCall", "EvaluateScript", "RunMicrotasks", "TimerFire"),
    "style": ("UpdateLayoutTree",),
    "layout": ("Layout",),
    "paint": ("PrePaint", "Paint", "Layerize"),
    "forced by script": ("Blink.ForcedStyleAndLayout.UpdateTime",),
    "mouse hit tests": ("EventHandler::handleMouseMoveEvent",),
    "gc": ("MajorGC", "MinorGC", "V8.GC_SCAVENGER", "V8.GC_MARK_COMPACTOR"),
}


@dataclass
class MainThread:
    """Milliseconds per unit (e.g. per event) on a page's renderer main thread, by kind.

    `busy` is wall time inside tasks (it grows when the machine's cores are contended); `cpu`
    is the thread's own CPU time in those tasks.
    """

    ms: dict[str, float]

    @property
    def busy(self) -> float:
        """All main-thread work per unit."""
        return self.ms.get("busy", 0.0)

    def text(self) -> str:
        """The figures as one line: busy first, then each kind."""
        order = ["busy", "cpu", *_TRACE_KINDS]
        return ", ".join(f"{kind} {self.ms[kind]:.2f}" for kind in order if kind in self.ms)


async def trace_page_while(
    browser: Any, page: Any, load: Awaitable[object], *, per: int
) -> MainThread | None:
    """Where the page's main thread spends its time while `load` runs (Chromium tracing).

    Returns milliseconds per unit of `per` (e.g. per event) for all tasks, script, style,
    layout, paint and GC on the page's renderer main thread (kinds overlap: a forced layout
    runs inside script), or None when tracing is unavailable.
    """
    try:
        await browser.start_tracing(page=page, categories=TRACE_CATEGORIES)
    except Exception as exc:
        logger.warning("Chromium tracing unavailable: %s", exc)
        await load
        return None
    try:
        await load
    finally:
        raw = await browser.stop_tracing()
    return summarise_trace(json.loads(raw), per=per)


def summarise_trace(trace: dict[str, Any] | list[Any], *, per: int) -> MainThread | None:
    """Per-kind time on the busiest renderer main thread of a trace, in ms per `per`."""
    events = trace["traceEvents"] if isinstance(trace, dict) else trace
    main_threads = {
        (e["pid"], e["tid"])
        for e in events
        if e.get("ph") == "M"
        and e.get("name") == "thread_name"
        and e.get("args", {}).get("name") == "CrRendererMain"
    }
    spans: dict[tuple[int, int], dict[str, list[tuple[float, float]]]] = {}
    cpu: dict[tuple[int, int], list[tuple[float, float, float]]] = {}
    for e in events:
        key = (e.get("pid"), e.get("tid"))
        if key not in main_threads or e.get("ph") != "X" or "dur" not in e:
            continue
        interval = (e["ts"] / 1000, (e["ts"] + e["dur"]) / 1000)
        kinds = spans.setdefault(key, {})
        kinds.setdefault("busy", []).append(interval)
        if "tdur" in e:  # the thread's own clock: CPU time, not time waiting for a core
            cpu.setdefault(key, []).append((*interval, e["tdur"] / 1000))
        for kind, names in _TRACE_KINDS.items():
            if e.get("name") in names:
                kinds.setdefault(kind, []).append(interval)
    if not spans:
        return None
    totals = {key: {kind: _union(iv) for kind, iv in kinds.items()} for key, kinds in spans.items()}
    key = max(totals, key=lambda k: totals[k]["busy"])
    busiest = {**totals[key], "cpu": _outermost_cpu(cpu.get(key, []))}
    return MainThread({kind: ms / max(per, 1) for kind, ms in busiest.items()})


def _outermost_cpu(spans: list[tuple[float, float, float]]) -> float:
    """CPU milliseconds of the events not nested in another (each task counted once)."""
    total = 0.0
    end = float("-inf")
    for _start, stop, thread_ms in sorted(spans, key=lambda s: (s[0], -s[1])):
        if stop <= end:
            continue
        total += thread_ms
        end = max(end, stop)
    return total


def _union(intervals: list[tuple[float, float]]) -> float:
    total = 0.0
    end = float("-inf")
    for start, stop in sorted(intervals):
        if stop <= end:
            continue
        total += stop - max(start, end)
        end = stop
    return total
