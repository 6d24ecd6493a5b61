"""Five Chromium room pages on one conversation: relay latency and main-thread time per tab.

One browser context (one owner, so every tab may see the conversation): the first tab starts
the conversation, the other four open its room. A `RoomDriver` makes the replica emit 20
events/s; every event reaches all five tabs. Per tab, as `latency` measures it:

- relay: the replica's `timestamp` on an event -> its row in that tab's DOM (clock offset
  calibrated per tab before and after the block);
- main-thread time per event: a Chromium trace of a block of its own (tracing slows the
  pages, so the relay is not measured under it). The trace is browser-wide, so all five tabs
  are traced over the same block; each tab puts a `performance.mark` in it, which names its
  renderer process, and that process's main thread is summarised for the tab.

The floor is `latency.measure_floor` on the first tab, brought to the front (where one types),
in the same run, with the other tabs open, before the relay block.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any

from playwright.async_api import Browser, BrowserContext, Page

from benchmarks.harness import (
    EVENTS_LOG,
    FILTER_BOX,
    LONG_MS,
    BenchContext,
    CpuMeter,
    RoomDriver,
    clock_offset,
    end_conversation,
    rows_seen,
    start_conversation,
    take_probe,
    wait_quiet,
    wait_rows,
)
from benchmarks.latency import (
    ECHO_WORDS,
    MAIN_THREAD_TARGET_MS,
    P99_FLOOR_FACTOR,
    RATE,
    measure_floor,
    relay_samples,
)
from benchmarks.profiling import TRACE_CATEGORIES, MainThread, summarise_trace
from benchmarks.report import Row, verdict
from benchmarks.stats import Summary

logger = logging.getLogger(__name__)

SECTION = "tabs"
TABS = 5
MARK = "cvi-bench-tab-"


@dataclass
class TabRelay:
    """One tab's relay latencies over a block of events."""

    sent: int
    total: list[float]
    """Per event, replica `timestamp` -> row in this tab's DOM (ms)."""
    complete: bool
    """Whether the tab rendered every event of the block within the wait."""

    @property
    def summary(self) -> Summary | None:
        return Summary.of(self.total) if self.total else None


async def open_room(context: BrowserContext, app_url: str, conversation_id: str) -> Page:
    """A new page in `context` on the room of an existing conversation, its probe watching."""
    page = await context.new_page()
    await page.goto(f"{app_url}/room/{conversation_id}")
    await page.wait_for_function(
        f"() => window.__bench && window.__bench.watchEventRows({EVENTS_LOG!r})",
        timeout=LONG_MS,
    )
    await wait_rows(page, 1, within=30)
    return page


async def relay_block(pages: list[Page], driver: RoomDriver, *, events: int) -> list[TabRelay]:
    """Stream `events` at 20/s into a conversation and measure the relay in each of `pages`."""
    for page in pages:
        await wait_quiet(page, quiet=0.5)
    before = [await rows_seen(page) for page in pages]
    offsets_before = [(await clock_offset(page))[0] for page in pages]
    for page in pages:
        await take_probe(page)
    sent = await driver.stream(events=events, rate=RATE, words=ECHO_WORDS)
    complete = await asyncio.gather(
        *(
            wait_rows(page, count + sent, within=30)
            for page, count in zip(pages, before, strict=True)
        )
    )
    results = []
    for page, offset_before, done in zip(pages, offsets_before, complete, strict=True):
        offset_after, _ = await clock_offset(page)
        probe = await take_probe(page)
        first = min((row[0] for row in probe["rows"]), default=1) - 1
        samples = relay_samples(
            probe,
            offset_ms=(offset_before + offset_after) / 2,
            after_seq=first,
            stamps=driver.stamps,
        )
        results.append(TabRelay(sent=sent, total=samples["total"], complete=done))
    return results


@dataclass
class TabTrace:
    """One tab's renderer main thread over a traced block, per event."""

    pid: int | None
    """The tab's renderer process (None if its mark was not found in the trace)."""
    main: MainThread | None
    """Wall time inside tasks, by kind (as `latency` reports it)."""
    cpu_ms: float | None
    """CPU time of the same tasks (the trace's thread clock): without the time the thread
    waited for a core, which the wall figure includes when renderers outnumber cores."""


def thread_cpu_ms(events: list[dict[str, Any]], pid: int, *, per: int) -> float | None:
    """CPU time (trace `tts`/`tdur`) on the renderer main thread of `pid`, ms per `per`."""
    mains = {
        e.get("tid")
        for e in events
        if e.get("pid") == pid
        and e.get("ph") == "M"
        and e.get("name") == "thread_name"
        and e.get("args", {}).get("name") == "CrRendererMain"
    }
    spans = sorted(
        (e["tts"] / 1000, (e["tts"] + e["tdur"]) / 1000)
        for e in events
        if e.get("pid") == pid
        and e.get("tid") in mains
        and e.get("ph") == "X"
        and "tts" in e
        and "tdur" in e
    )
    if not spans:
        return None
    total, end = 0.0, float("-inf")
    for begin, stop in spans:  # nested events share thread time: count their union
        if stop > end:
            total += stop - max(begin, end)
            end = stop
    return total / max(per, 1)


async def trace_tabs(
    browser: Browser, pages: list[Page], load: Awaitable[object], *, per: int
) -> list[TabTrace]:
    """Main-thread time per unit of `per` for each page, all traced over the same `load`.

    Two pages in one renderer process would share its main thread: both get its figures.
    """
    try:
        await browser.start_tracing(categories=[*TRACE_CATEGORIES, "blink.user_timing"])
    except Exception as exc:
        logger.warning("Chromium tracing unavailable: %s", exc)
        await load
        return [TabTrace(None, None, None) for _ in pages]
    try:
        for i, page in enumerate(pages):
            await page.evaluate("(name) => performance.mark(name)", f"{MARK}{i}")
        await load
    finally:
        raw = await browser.stop_tracing()
    trace = json.loads(raw)
    events: list[dict[str, Any]] = trace["traceEvents"] if isinstance(trace, dict) else trace
    pid_of = {e["name"]: e.get("pid") for e in events if str(e.get("name", "")).startswith(MARK)}
    traces = []
    for i in range(len(pages)):
        pid = pid_of.get(f"{MARK}{i}")
        if pid is None:
            traces.append(TabTrace(None, None, None))
            continue
        own = [e for e in events if e.get("pid") == pid]
        traces.append(
            TabTrace(pid, summarise_trace(own, per=per), thread_cpu_ms(own, pid, per=per))
        )
    return traces


async def _traced_block(
    browser: Browser, pages: list[Page], driver: RoomDriver, *, events: int
) -> list[TabTrace]:
    for page in pages:
        await wait_quiet(page, quiet=0.5)
    before = [await rows_seen(page) for page in pages]

    async def load() -> None:
        sent = await driver.stream(events=events, rate=RATE, words=ECHO_WORDS)
        await asyncio.gather(
            *(wait_rows(p, n + sent, within=30) for p, n in zip(pages, before, strict=True))
        )

    return await trace_tabs(browser, pages, load(), per=events)


async def run(ctx: BenchContext) -> list[Row]:
    """Five tabs on one conversation at 20 events/s: the worst tab's relay p99 and main thread."""
    app = await ctx.app()
    browser = await ctx.browser()
    events = 100 if ctx.quick else 200
    traced_events = 80 if ctx.quick else 160
    floor_samples = 30 if ctx.quick else 100
    context = await ctx.probed_context()
    try:
        first = await context.new_page()
        cid = await start_conversation(first, app.url)
        pages = [first] + [await open_room(context, app.url, cid) for _ in range(TABS - 1)]
        for page in pages:
            await wait_quiet(page)
        # The tab one types in is in front; here a round trip from a tab that is not took
        # about 50 ms more (its frames arrived later), which would make a lenient floor.
        await first.bring_to_front()
        floor = await measure_floor(first, floor_samples)
        await first.locator(FILTER_BOX).fill("")
        await first.locator(FILTER_BOX).press("Enter")
        meter = CpuMeter(app.backend)
        async with RoomDriver(app, cid) as driver:
            meter.start()
            relays = await relay_block(pages, driver, events=events)
            relay_cpu = meter.stop()
            meter.start()
            traces = await _traced_block(browser, pages, driver, events=traced_events)
            traced_cpu = meter.stop()
        await wait_quiet(first, quiet=0.5)
        await end_conversation(first)
    finally:
        await context.close()
    cpu = {"relay": relay_cpu, "traced": traced_cpu}
    return _rows(floor["total"], relays, traces, traced_events=traced_events, cpu=cpu)


def _cpu_text(cpu: dict[str, float]) -> str:
    return f"backend {cpu['backend_cores']:.0%} of a core, Chromium {cpu['browser_cores']:.0%}"


def _rows(
    floor: Summary,
    relays: list[TabRelay],
    traces: list[TabTrace],
    *,
    traced_events: int,
    cpu: dict[str, dict[str, float]],
) -> list[Row]:
    """The worst tab's relay p99 and main-thread time, each tab's figures in notes and details."""
    summaries = [r.summary for r in relays]
    relay_by_tab = [s for s in summaries if s is not None]
    if len(relay_by_tab) < len(relays):
        raise RuntimeError("a tab rendered none of the block's events")
    p99s = [s.p99 for s in relay_by_tab]
    worst = max(range(len(p99s)), key=p99s.__getitem__)
    ok_relay = p99s[worst] <= P99_FLOOR_FACTOR * floor.p99 and all(r.complete for r in relays)
    busy = [t.main.busy if t.main else None for t in traces]
    traced = [i for i, b in enumerate(busy) if b is not None]
    busiest = max(traced, key=lambda i: busy[i] or 0.0) if traced else None
    worst_main = traces[busiest].main if busiest is not None else None
    ok_main = (
        len(traced) == len(traces)
        and worst_main is not None
        and worst_main.busy <= MAIN_THREAD_TARGET_MS
    )

    def figure(value: float | None) -> str:
        return f"{value:.2f}" if value is not None else "n/a"

    per_tab = "; ".join(
        f"tab {i + 1}: relay {s.short()}, main thread {figure(t.main.busy if t.main else None)} "
        "ms/event"
        for i, (s, t) in enumerate(zip(relay_by_tab, traces, strict=True))
    )
    pids = [t.pid for t in traces if t.pid is not None]
    trace_note = (
        f"one browser-wide Chromium trace of all {len(traces)} tabs over the same block "
        "(of its own: the relay is not measured under it), each tab's renderer found by a "
        "performance.mark it left in the trace"
        + (
            "; some tabs shared a renderer process and so its figures"
            if len(set(pids)) < len(pids)
            else ""
        )
        + f"; main-thread time is wall time inside tasks, CPU (the trace's thread clock) per "
        f"tab {' / '.join(figure(t.cpu_ms) for t in traces)} ms/event (the difference: time "
        f"the thread was not running, e.g. waiting for a core, {len(traces)} renderers on "
        f"{os.cpu_count()} cores); CPU during the traced block: " + _cpu_text(cpu["traced"])
    )
    lost = [
        f"tab {i + 1} rendered {len(r.total)} of {r.sent} events in time"
        for i, r in enumerate(relays)
        if not r.complete
    ]
    details = {
        "tabs": len(relays),
        "rate_per_s": RATE,
        "events_sent": relays[0].sent,
        "traced_events": traced_events,
        "floor_ms": vars(floor),
        "per_tab": [
            {
                "tab": i + 1,
                "relay_ms": vars(s),
                "complete": r.complete,
                "main_thread_ms_per_event": t.main.ms if t.main else None,
                "main_thread_cpu_ms_per_event": t.cpu_ms,
                "renderer_pid": t.pid,
            }
            for i, (r, s, t) in enumerate(zip(relays, relay_by_tab, traces, strict=True))
        ],
        "cpu_cores": cpu,
    }
    return [
        Row(
            SECTION,
            f"worst tab's relay p99 ({len(relays)} tabs, {relays[0].sent} events at {RATE:.0f}/s)",
            p99s[worst],
            "ms",
            target=f"<= {P99_FLOOR_FACTOR}x the floor's p99 ({P99_FLOOR_FACTOR * floor.p99:.1f} ms)",
            comparison=(
                f"floor p99 {floor.p99:.1f} ms (tab 1 in front, {floor.count} round trips, "
                f"the other tabs open); ratio {p99s[worst] / floor.p99:.2f}x; tab {worst + 1} worst; "
                f"p99 per tab {' / '.join(f'{p:.1f}' for p in p99s)} ms"
            ),
            status=verdict(ok_relay),
            note="; ".join(
                [*lost, per_tab, "CPU during the relay block: " + _cpu_text(cpu["relay"])]
            ),
            details=details,
        ),
        Row(
            SECTION,
            f"worst tab's page main-thread time per event ({traced_events} events)",
            worst_main.busy if worst_main else None,
            "ms",
            target=f"<= {MAIN_THREAD_TARGET_MS:.0f} ms",
            comparison=(
                f"per tab {' / '.join(figure(b) for b in busy)} ms; tab "
                f"{(busiest or 0) + 1}: {worst_main.text()}"
                if worst_main
                else "Chromium tracing was unavailable"
            ),
            status=verdict(ok_main),
            note=trace_note,
        ),
    ]
