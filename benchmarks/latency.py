"""Relay latency: a replica event emitted in the sandbox -> its row rendered in Chromium's DOM.

One room page in Chromium, one conversation. A second room participant (`RoomDriver`) makes the
simulated replica speak short echoes, paced so it emits 20 events/s; each event's latency is the
time its row appeared in the Events log (MutationObserver, browser clock) minus the `timestamp`
the replica stamped on it (backend clock), after calibrating the offset between the two clocks.

The floor, measured on the same page just before: a bare Reflex round trip of a cheap existing
handler, `RoomState.set_event_filter` (typing in "Filter events" and pressing Enter, which skips
the input's debounce), from the moment its event leaves the browser's websocket to the moment the
DOM changed (the Events list's `data-count`).

Both are split at the first websocket frame that carries the row (or the handler's delta):
server part (event -> frame received) and browser part (frame -> DOM).
"""

from __future__ import annotations

import logging
from typing import Any

from playwright.async_api import TimeoutError as PlaywrightTimeoutError

from benchmarks.harness import (
    EVENTS_LIST,
    FILTER_BOX,
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
from benchmarks.profiling import MainThread, profile_while, trace_page_while
from benchmarks.report import Row, verdict
from benchmarks.stats import Summary

logger = logging.getLogger(__name__)

SECTION = "latency"
RATE = 20.0
ECHO_WORDS = 9
P50_FLOOR_FACTOR = 1.5
P99_FLOOR_FACTOR = 2.5
MAIN_THREAD_TARGET_MS = 4.0
TRACED_EVENTS = 160


async def measure_floor(page: Any, samples: int) -> dict[str, Summary]:
    """Round trips of `set_event_filter`: total, server part, browser part (ms)."""
    await page.wait_for_function(
        f"() => window.__bench.watchAttribute({EVENTS_LIST!r}, 'data-count')"
    )
    if not await wait_rows(page, 1, within=30):
        raise RuntimeError("the replica's greeting never showed in the Events log")
    box = page.locator(FILTER_BOX)
    misses = 0
    for i in range(samples + 1):
        await page.evaluate("window.__bench.startFloor('set_event_filter', 'event_filter')")
        await box.fill("zzz" if i % 2 == 0 else "")
        await box.press("Enter")
        try:
            await page.wait_for_function(
                "() => window.__bench.floor && window.__bench.floor.dom !== null", timeout=10_000
            )
        except PlaywrightTimeoutError:
            misses += 1
            if misses > 3:
                raise
            logger.warning("floor round trip %d: no DOM change seen; skipped", i)
        await page.evaluate("window.__bench.endFloor()")
    raw: list[list[float | None]] = await page.evaluate("window.__bench.floorSamples")
    raw = raw[1:]  # the first round trip warms the handler up
    total = [dom - send for send, _, dom in raw if send is not None and dom is not None]
    server = [frame - send for send, frame, _ in raw if frame is not None and send is not None]
    browser = [dom - frame for _, frame, dom in raw if frame is not None and dom is not None]
    return {
        "total": Summary.of(total),
        "server": Summary.of(server),
        "browser": Summary.of(browser),
    }


def relay_samples(
    probe: dict[str, Any], *, offset_ms: float, after_seq: int, stamps: dict[int, float]
) -> dict[str, list[float]]:
    """Per-event latencies (ms) from what the probe recorded: total, server part, browser part.

    `stamps` are the events' own `timestamp`s (Unix seconds) by seq, as the replica sent them.
    """
    frames = {int(seq): t for seq, t in probe["seqFrame"].items()}
    total: list[float] = []
    server: list[float] = []
    browser: list[float] = []
    for seq, _type, dom in probe["rows"]:
        stamp = stamps.get(seq)
        if seq <= after_seq or stamp is None or dom is None:
            continue
        emitted = stamp * 1000 + offset_ms
        total.append(dom - emitted)
        if seq in frames:
            server.append(frames[seq] - emitted)
            browser.append(dom - frames[seq])
    return {"total": total, "server": server, "browser": browser}


def _trend(
    probe: dict[str, Any],
    *,
    offset_ms: float,
    after_seq: int,
    stamps: dict[int, float],
    n: int = 100,
) -> str:
    """Relay p50 over the first and the last `n` events: does it grow with the list?"""
    rows = sorted(r for r in probe["rows"] if r[0] > after_seq)
    if len(rows) < 2 * n:
        return ""
    head = relay_samples(
        {**probe, "rows": rows[:n]}, offset_ms=offset_ms, after_seq=after_seq, stamps=stamps
    )
    tail = relay_samples(
        {**probe, "rows": rows[-n:]}, offset_ms=offset_ms, after_seq=after_seq, stamps=stamps
    )
    if not (head["browser"] and tail["browser"]):
        return ""
    return (
        f"first {n} events: relay p50 {Summary.of(head['total']).p50:.1f} ms (browser part "
        f"{Summary.of(head['browser']).p50:.1f}); last {n}: {Summary.of(tail['total']).p50:.1f} ms "
        f"(browser part {Summary.of(tail['browser']).p50:.1f})"
    )


async def _profile(ctx: BenchContext, page: Any, driver: RoomDriver, seconds: int = 8) -> str:
    """Profile the backend (py-spy) and trace the page (Chromium) under the same load."""
    app = await ctx.app()
    browser = await ctx.browser()
    events = int(RATE * seconds)
    traced: list[MainThread | None] = []

    async def traced_load() -> None:
        load = driver.stream(events=events, rate=RATE, words=ECHO_WORDS)
        traced.append(await trace_page_while(browser, page, load, per=events))

    backend = await profile_while(app.backend.pid, seconds, traced_load())
    notes = []
    if backend is not None:
        notes.append(
            backend.note(f"py-spy on the backend during {seconds} s more of the same load")
        )
    if traced and traced[0]:
        notes.append(f"Chromium trace of the same {seconds} s, ms per event: {traced[0].text()}")
    return "; ".join(notes)


async def main_thread_per_event(
    browser: Any, page: Any, driver: RoomDriver, *, events: int = TRACED_EVENTS
) -> MainThread | None:
    """The page's main-thread time per event while the replica sends `events` at 20/s.

    A block of its own: tracing slows the page, so the relay is not measured under it.
    """
    await wait_quiet(page, quiet=0.5)
    before = await rows_seen(page)
    sent: list[int] = []

    async def load() -> None:
        sent.append(await driver.stream(events=events, rate=RATE, words=ECHO_WORDS))
        await wait_rows(page, before + sent[0], within=30)

    return await trace_page_while(browser, page, load(), per=events)


async def run(ctx: BenchContext) -> list[Row]:
    """Measure the floor, then the relay latency at 20 events/s; profile the backend on a miss."""
    app = await ctx.app()
    events = 200 if ctx.quick else 500
    floor_samples = 30 if ctx.quick else 100
    context = await ctx.probed_context()
    try:
        page = await context.new_page()
        cid = await start_conversation(page, app.url)
        await wait_quiet(page)
        floor = await measure_floor(page, floor_samples)
        await page.locator(FILTER_BOX).fill("")
        await page.locator(FILTER_BOX).press("Enter")
        await wait_quiet(page, quiet=0.5)
        offset_before, error_before = await clock_offset(page)
        shown_before = await rows_seen(page)
        await take_probe(page)
        meter = CpuMeter(app.backend)
        async with RoomDriver(app, cid) as driver:
            meter.start()
            sent = await driver.stream(events=events, rate=RATE, words=ECHO_WORDS)
            complete = await wait_rows(page, shown_before + sent, within=30)
            cpu = meter.stop()
            offset_after, error_after = await clock_offset(page)
            probe = await take_probe(page)
            offset = (offset_before + offset_after) / 2
            first_seq = min((row[0] for row in probe["rows"]), default=0) - 1
            samples = relay_samples(
                probe, offset_ms=offset, after_seq=first_seq, stamps=driver.stamps
            )
            hops = [
                driver.arrivals[seq] - driver.stamps[seq] * 1000
                for seq, _type, _dom in probe["rows"]
                if seq > first_seq and seq in driver.stamps
            ]
            room_hop = Summary.of(hops) if hops else None
            if not samples["total"]:
                raise RuntimeError(
                    f"none of the {sent} events was seen both in the room and in the page"
                )
            relay = Summary.of(samples["total"])
            server = Summary.of(samples["server"]) if samples["server"] else None
            browser = Summary.of(samples["browser"]) if samples["browser"] else None
            ok_p50 = relay.p50 <= P50_FLOOR_FACTOR * floor["total"].p50
            ok_p99 = relay.p99 <= P99_FLOOR_FACTOR * floor["total"].p99
            main_thread = await main_thread_per_event(await ctx.browser(), page, driver)
            ok_main = main_thread is not None and main_thread.busy <= MAIN_THREAD_TARGET_MS
            profile_note = ""
            if not (ok_p50 and ok_p99):
                profile_note = await _profile(ctx, page, driver)
        await wait_quiet(page, quiet=0.5)
        await end_conversation(page)
    finally:
        await context.close()

    split = (
        f"server part (event -> frame in browser) {server.short()}; "
        f"browser part (frame -> DOM) {browser.short()}"
        if server and browser
        else ""
    )
    if room_hop is not None:
        split += (
            f"; of the server part, the room hop alone (replica -> room WebSocket -> a second "
            f"participant, out of process) {room_hop.short()}"
        )
    clock = (
        f"clock offset browser-backend {offset_before:+.2f} ms before / {offset_after:+.2f} ms "
        f"after the run (uncertainty {max(error_before, error_after):.2f} ms)"
    )
    load = (
        f"CPU during the run: backend {cpu['backend_cores']:.0%} of a core, "
        f"Chromium {cpu['browser_cores']:.0%}"
    )
    trend = _trend(probe, offset_ms=offset, after_seq=first_seq, stamps=driver.stamps)
    lost = "" if complete else f"only {len(samples['total'])} of {sent} events were rendered; "
    floor_text = (
        f"floor (set_event_filter round trip, {floor['total'].count} samples) "
        f"{floor['total'].short()}"
    )
    common = {
        "events_sent": sent,
        "events_rendered": relay.count,
        "rate_per_s": RATE,
        "relay_ms": vars(relay),
        "relay_server_ms": vars(server) if server else None,
        "relay_browser_ms": vars(browser) if browser else None,
        "room_hop_ms": vars(room_hop) if room_hop else None,
        "floor_ms": vars(floor["total"]),
        "floor_server_ms": vars(floor["server"]),
        "floor_browser_ms": vars(floor["browser"]),
        "clock_offset_ms": [offset_before, offset_after],
        "cpu_cores": cpu,
    }
    notes = "; ".join(filter(None, [lost, split, trend, load, clock, profile_note]))
    return [
        Row(
            SECTION,
            f"relay p50 ({relay.count} events at {RATE:.0f}/s)",
            relay.p50,
            "ms",
            target=f"<= {P50_FLOOR_FACTOR}x floor p50 ({P50_FLOOR_FACTOR * floor['total'].p50:.1f} ms)",
            comparison=f"floor p50 {floor['total'].p50:.1f} ms; ratio {relay.p50 / floor['total'].p50:.2f}x",
            status=verdict(ok_p50 and complete),
            note=notes,
            details=common,
        ),
        Row(
            SECTION,
            "relay p95",
            relay.p95,
            "ms",
            comparison=f"floor p95 {floor['total'].p95:.1f} ms",
        ),
        Row(
            SECTION,
            "relay p99",
            relay.p99,
            "ms",
            target=f"<= {P99_FLOOR_FACTOR}x floor p99 ({P99_FLOOR_FACTOR * floor['total'].p99:.1f} ms)",
            comparison=(
                f"floor p99 {floor['total'].p99:.1f} ms; "
                f"ratio {relay.p99 / floor['total'].p99:.2f}x"
            ),
            status=verdict(ok_p99 and complete),
        ),
        Row(
            SECTION,
            f"page main-thread time per event ({TRACED_EVENTS} events at {RATE:.0f}/s)",
            main_thread.busy if main_thread else None,
            "ms",
            target=f"<= {MAIN_THREAD_TARGET_MS:.0f} ms",
            comparison=f"Chromium trace, ms per event: {main_thread.text()}" if main_thread else "",
            status=verdict(ok_main),
            note="" if main_thread else "Chromium tracing was unavailable",
            details={"main_thread_ms_per_event": main_thread.ms if main_thread else None},
        ),
        Row(
            SECTION,
            "floor: bare Reflex round trip",
            floor["total"].p50,
            "ms",
            comparison=floor_text
            + f"; server part {floor['server'].short()}, browser part {floor['browser'].short()}",
        ),
    ]
