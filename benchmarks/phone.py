"""A phone-like room page: 4x CPU throttling, a 390x844 viewport; relay and main thread.

Two runs of the same sequence, each on a fresh conversation and a fresh room page with a
390x844 viewport, so the only difference is the CPU: first unthrottled, then with Chromium's
CPU throttling at 4x (CDP `Emulation.setCPUThrottlingRate`, applied once the room is live).
Each run: a block of events at 20/s for the relay latency (as `latency` measures it), then a
block of its own under a Chromium trace for the page's main-thread time per event
(`latency.main_thread_per_event`). Reported only (INFO), beside the target "<= 4x the
unthrottled figure" and the ratio.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from playwright.async_api import BrowserContext, ViewportSize

from benchmarks.harness import BenchContext, RoomDriver, end_conversation, start_conversation
from benchmarks.latency import RATE, main_thread_per_event
from benchmarks.profiling import MainThread
from benchmarks.report import Row
from benchmarks.stats import Summary
from benchmarks.tabs import relay_block

logger = logging.getLogger(__name__)

SECTION = "phone"
THROTTLE = 4.0
VIEWPORT = ViewportSize(width=390, height=844)
MAX_RATIO = 4.0


@dataclass
class PhoneRun:
    """One run's figures: relay over the block, main-thread time per event."""

    relay: Summary | None
    sent: int
    complete: bool
    main_thread: MainThread | None


async def measure(
    ctx: BenchContext,
    context: BrowserContext,
    *,
    throttle: float | None,
    events: int,
    traced_events: int,
) -> PhoneRun:
    """Start a conversation on a fresh 390x844 page, optionally throttle it, measure, end."""
    app = await ctx.app()
    page = await context.new_page()
    try:
        await page.set_viewport_size(VIEWPORT)
        cid = await start_conversation(page, app.url)
        cdp = await context.new_cdp_session(page)
        if throttle is not None:
            # Kept for as long as this CDP session lives: the page's renderer runs slower.
            await cdp.send("Emulation.setCPUThrottlingRate", {"rate": throttle})
        async with RoomDriver(app, cid) as driver:
            (relay,) = await relay_block([page], driver, events=events)
            main = await main_thread_per_event(
                await ctx.browser(), page, driver, events=traced_events
            )
        await end_conversation(page)
        await cdp.detach()
    finally:
        await page.close()
    return PhoneRun(relay=relay.summary, sent=relay.sent, complete=relay.complete, main_thread=main)


def _ratio(value: float | None, base: float | None) -> str:
    if value is None or not base:
        return "n/a"
    return f"{value / base:.2f}x"


async def run(ctx: BenchContext) -> list[Row]:
    """The unthrottled block, then the same on a 4x-throttled phone-sized page."""
    events = 100 if ctx.quick else 200
    traced_events = 80 if ctx.quick else 160
    context = await ctx.probed_context()
    try:
        base = await measure(
            ctx, context, throttle=None, events=events, traced_events=traced_events
        )
        phone = await measure(
            ctx, context, throttle=THROTTLE, events=events, traced_events=traced_events
        )
    finally:
        await context.close()

    base_ms = base.main_thread.busy if base.main_thread else None
    phone_ms = phone.main_thread.busy if phone.main_thread else None
    base_p99 = base.relay.p99 if base.relay else None
    phone_p99 = phone.relay.p99 if phone.relay else None
    setting = f"{THROTTLE:.0f}x CPU throttling, {VIEWPORT['width']}x{VIEWPORT['height']} viewport"
    lost = [
        f"{name}: only {r.relay.count if r.relay else 0} of {r.sent} events rendered in time"
        for name, r in (("unthrottled", base), ("throttled", phone))
        if not r.complete
    ]
    details = {
        "throttle_rate": THROTTLE,
        "viewport": VIEWPORT,
        "rate_per_s": RATE,
        "events_sent": {"unthrottled": base.sent, "throttled": phone.sent},
        "relay_ms": {
            "unthrottled": vars(base.relay) if base.relay else None,
            "throttled": vars(phone.relay) if phone.relay else None,
        },
        "main_thread_ms_per_event": {
            "unthrottled": base.main_thread.ms if base.main_thread else None,
            "throttled": phone.main_thread.ms if phone.main_thread else None,
        },
    }
    same = "unthrottled, same viewport, fresh conversation, same run"
    return [
        Row(
            SECTION,
            f"page main-thread time per event ({setting})",
            phone_ms,
            "ms",
            target=f"<= {MAX_RATIO:.0f}x the unthrottled figure (report only)",
            comparison=(
                f"{same}: {base_ms:.2f} ms/event; ratio {_ratio(phone_ms, base_ms)}"
                if base_ms is not None
                else "unthrottled figure unavailable"
            ),
            note=(
                f"Chromium trace of {traced_events} events at {RATE:.0f}/s; throttled: "
                + (phone.main_thread.text() if phone.main_thread else "n/a")
                + "; unthrottled: "
                + (base.main_thread.text() if base.main_thread else "n/a")
            ),
            details=details,
        ),
        Row(
            SECTION,
            f"relay p99 ({phone.sent} events at {RATE:.0f}/s, {setting})",
            phone_p99,
            "ms",
            target=f"<= {MAX_RATIO:.0f}x the unthrottled figure (report only)",
            comparison=(
                f"{same}: p99 {base_p99:.1f} ms; ratio {_ratio(phone_p99, base_p99)}"
                if base_p99 is not None
                else "unthrottled figure unavailable"
            ),
            note="; ".join(
                [
                    *lost,
                    f"throttled relay {phone.relay.short() if phone.relay else 'n/a'}",
                    f"unthrottled relay {base.relay.short() if base.relay else 'n/a'}",
                ]
            ),
        ),
    ]
