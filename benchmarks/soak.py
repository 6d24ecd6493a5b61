"""A long run: one room page, 20 events/s for 10 minutes (2 with --quick); does anything grow?

A `RoomDriver` makes the replica emit 20 events/s without a break. Once before the load and
then every minute, a sample of:

- the page's JS heap: V8's used heap (CDP `Runtime.getHeapUsage`) right after a forced
  garbage collection (CDP `HeapProfiler.collectGarbage`), so only live objects count;
- its DOM nodes: CDP `Memory.getDOMCounters` after the same collection (every live node,
  detached ones too, so a leak of removed rows would show), beside the elements in the
  document and the event rows and transcript lines rendered;
- the backend process's RSS.

Judged: growth after the first minute (last sample / minute-1 sample - 1), under 10% each.
The room renders a bounded number of event rows and transcript lines (live_feed.jsx), so DOM
nodes should plateau once both lists are full; the JS heap holds the rows the browser keeps
beyond those, so it plateaus only if those are bounded too. The rows and lines rendered are
kept with each sample.

The probe's own records are drained every minute (and its seq bookkeeping pruned), so they do
not count as the page's growth. The forced collection pauses the page: the relay p99 of each
minute, kept beside the samples, includes that pause.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import asdict, dataclass
from typing import Any

from playwright.async_api import CDPSession, Page

from benchmarks.harness import (
    BenchApp,
    BenchContext,
    RoomDriver,
    clock_offset,
    end_conversation,
    start_conversation,
    take_probe,
    wait_quiet,
)
from benchmarks.latency import ECHO_WORDS, RATE, relay_samples
from benchmarks.report import Row, verdict
from benchmarks.stats import Summary

logger = logging.getLogger(__name__)

SECTION = "soak"
MAX_GROWTH = 0.10
KEEP_SEQS = 2_000
"""Seqs the probe keeps in its `seen` set: well past any row still growing its group."""

_PRUNE_PROBE = """(keep) => {
  const b = window.__bench;
  b.seqFrame = {};
  let top = 0;
  for (const seq of b.seen) if (seq > top) top = seq;
  for (const seq of [...b.seen]) if (seq < top - keep) b.seen.delete(seq);
}"""
_DOM_FIGURES = """() => [
  document.getElementsByTagName('*').length,
  document.querySelectorAll('.cvi-event').length,
  document.querySelectorAll('.cvi-line').length,
]"""


@dataclass
class Sample:
    """What the page and the backend hold at one minute of the soak."""

    minute: int
    heap_bytes: int
    dom_nodes: int
    js_event_listeners: int
    elements: int
    event_rows_rendered: int
    transcript_lines_rendered: int
    backend_rss_bytes: int
    events_rendered: int
    """Event rows the page showed during the minute before this sample."""
    relay_p99_ms: float | None
    """Relay p99 over those events."""


async def sample(
    page: Page, cdp: CDPSession, app: BenchApp, *, minute: int, relay: list[float]
) -> Sample:
    """Force a garbage collection in the page, then read its heap, DOM and the backend RSS."""
    await cdp.send("HeapProfiler.collectGarbage")
    heap = await cdp.send("Runtime.getHeapUsage")
    counters = await cdp.send("Memory.getDOMCounters")
    elements, rows, lines = await page.evaluate(_DOM_FIGURES)
    return Sample(
        minute=minute,
        heap_bytes=int(heap["usedSize"]),
        dom_nodes=int(counters["nodes"]),
        js_event_listeners=int(counters["jsEventListeners"]),
        elements=int(elements),
        event_rows_rendered=int(rows),
        transcript_lines_rendered=int(lines),
        backend_rss_bytes=app.rss(),
        events_rendered=len(relay),
        relay_p99_ms=Summary.of(relay).p99 if relay else None,
    )


async def minute_relay(page: Page, driver: RoomDriver, offset_ms: float) -> list[float]:
    """Relay latencies (ms) of the rows the page showed since the last call; drains the probe."""
    probe = await take_probe(page)
    await page.evaluate(_PRUNE_PROBE, KEEP_SEQS)
    return relay_samples(probe, offset_ms=offset_ms, after_seq=0, stamps=driver.stamps)["total"]


def growth(samples: list[Sample], field: str) -> float:
    """Last sample over the minute-1 sample, minus one."""
    first = getattr(samples[1], field)
    return float(getattr(samples[-1], field)) / max(first, 1) - 1


async def run(ctx: BenchContext) -> list[Row]:
    """Stream 20 events/s into one room page for 10 minutes; sample memory every minute."""
    app = await ctx.app()
    minutes = 2 if ctx.quick else 10
    context = await ctx.probed_context()
    try:
        page = await context.new_page()
        cid = await start_conversation(page, app.url)
        await wait_quiet(page)
        cdp = await context.new_cdp_session(page)
        async with RoomDriver(app, cid) as driver:
            offset, _ = await clock_offset(page)
            await minute_relay(page, driver, offset)
            samples = [await sample(page, cdp, app, minute=0, relay=[])]
            started = time.monotonic()
            load = asyncio.create_task(
                driver.stream(events=int(RATE * 60 * minutes), rate=RATE, words=ECHO_WORDS)
            )
            try:
                for minute in range(1, minutes + 1):
                    await asyncio.sleep(max(0.0, started + 60 * minute - time.monotonic()))
                    relay = await minute_relay(page, driver, offset)
                    samples.append(await sample(page, cdp, app, minute=minute, relay=relay))
                    offset, _ = await clock_offset(page)
                    logger.info("soak minute %d: %s", minute, samples[-1])
                sent = await load
            finally:
                load.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await load
        await wait_quiet(page, quiet=0.5)
        await end_conversation(page)
    finally:
        await context.close()
    return rows(samples, sent=sent, minutes=minutes)


def rows(samples: list[Sample], *, sent: int, minutes: int) -> list[Row]:
    """The growth rows (heap, DOM nodes, backend RSS) and the relay over the soak."""
    first, last = samples[1], samples[-1]
    details: dict[str, Any] = {
        "minutes": minutes,
        "rate_per_s": RATE,
        "events_sent": sent,
        "samples": [asdict(s) for s in samples],
    }

    def growth_row(name: str, field: str, unit_name: str, scale: float, note: str) -> Row:
        g = growth(samples, field)

        def at(s: Sample) -> str:
            value = getattr(s, field) / scale
            return f"{value:,.1f} {unit_name}" if scale > 1 else f"{value:,.0f} {unit_name}"

        return Row(
            SECTION,
            f"{name} growth after minute 1 ({minutes} min at {RATE:.0f} events/s)",
            g * 100,
            "%",
            target=f"< {MAX_GROWTH:.0%}",
            comparison=(
                f"minute 1: {at(first)}, minute {last.minute}: {at(last)} "
                f"(before the load: {at(samples[0])})"
            ),
            status=verdict(g < MAX_GROWTH),
            note=note,
        )

    per_minute = ", ".join(f"{s.heap_bytes / 2**20:.1f}" for s in samples)
    p99s = [s.relay_p99_ms for s in samples[1:] if s.relay_p99_ms is not None]
    result = [
        growth_row(
            "page JS heap",
            "heap_bytes",
            "MB",
            2**20,
            f"V8 used heap after a forced GC, per minute from 0: {per_minute} MB",
        ),
        growth_row(
            "page DOM nodes",
            "dom_nodes",
            "nodes",
            1,
            f"CDP Memory.getDOMCounters after a forced GC; elements in the document "
            f"{first.elements:,} -> {last.elements:,}, event rows rendered "
            f"{first.event_rows_rendered} -> {last.event_rows_rendered}, transcript lines "
            f"{first.transcript_lines_rendered} -> {last.transcript_lines_rendered} (each list "
            "renders a bounded number: live_feed.jsx)",
        ),
        growth_row(
            "backend RSS",
            "backend_rss_bytes",
            "MB",
            2**20,
            "psutil RSS of the Reflex backend process",
        ),
    ]
    result[0].details = details
    if p99s:
        result.append(
            Row(
                SECTION,
                f"relay p99 in the last minute ({last.events_rendered} events)",
                p99s[-1],
                "ms",
                comparison=(
                    f"first minute {p99s[0]:.1f} ms; per minute "
                    + " / ".join(f"{p:.1f}" for p in p99s)
                    + " ms"
                ),
                note="each minute's figure includes the pause of that minute's forced GC",
            )
        )
    return result
