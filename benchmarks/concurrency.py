"""50 concurrent sandbox conversations, each streaming 5 events/s into a subscribed tab.

Conversations are started from the home page in Chromium (a few pages at a time, one browser
context, so one owner). Each has its own `RoomDriver` making its replica speak three-word echoes
(4 events every 0.8 s), the 50 schedules spread evenly over one period. Latency is the
replica's `timestamp` on each event -> the moment the tab has it.

Tabs, two kinds:
- default, `SocketTab`: a subscriber speaking Reflex's websocket protocol from this process,
  which the backend cannot tell from a room page (same CONNECT packet as Chromium's, own client
  token, the page's on_load, every delta). Latency ends when its frame arrives: no rendering.
  Used because 50 headless Chromium pages on this 2-core machine starve the backend of CPU.
- `--chromium-tabs`: 50 real room pages in one headless Chromium, latency to the DOM (as in
  `latency`).

Memory: the backend process's RSS (psutil) once the first conversation and its tab are live
(everything lazily loaded is loaded by then), and again after all 50 have streamed; the
difference divided by the 49 added conversations: what one more conversation costs the backend
(sandbox room and replica, session, the tab's Reflex state and websocket).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from typing import Any, Protocol

from playwright.async_api import BrowserContext, Page

from benchmarks.harness import (
    BenchContext,
    CpuMeter,
    RoomDriver,
    clock_offset,
    rows_seen,
    start_conversation,
    take_probe,
)
from benchmarks.harness import wait_rows as wait_page_rows
from benchmarks.latency import relay_samples
from benchmarks.profiling import profile_while
from benchmarks.report import Row, verdict
from benchmarks.socket_tab import CONNECT_PREFIX, SocketTab, cookie_header, retarget
from benchmarks.socket_tab import wait_rows as wait_socket_rows
from benchmarks.stats import Summary

logger = logging.getLogger(__name__)

SECTION = "concurrency"
CONVERSATIONS = 50
RATE = 5.0
ECHO_WORDS = 3
P99_TARGET_MS = 250.0
MEMORY_TARGET_MB = 5.0
STARTER_PAGES = 4


class Tab(Protocol):
    async def rows(self) -> int: ...
    async def reset(self) -> None: ...
    async def wait(self, count: int, within: float) -> bool: ...
    async def samples(self, stamps: dict[int, float]) -> dict[str, list[float]]: ...


class PageTab:
    """A room page in Chromium (latency to the DOM)."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.offset = 0.0

    async def rows(self) -> int:
        return await rows_seen(self.page)

    async def reset(self) -> None:
        self.offset = (await clock_offset(self.page, samples=8))[0]
        await take_probe(self.page)

    async def wait(self, count: int, within: float) -> bool:
        return await wait_page_rows(self.page, count, within=within)

    async def samples(self, stamps: dict[int, float]) -> dict[str, list[float]]:
        probe = await take_probe(self.page)
        first = min((row[0] for row in probe["rows"]), default=1) - 1
        return relay_samples(probe, offset_ms=self.offset, after_seq=first, stamps=stamps)


class SubscriberTab:
    """A `SocketTab` (latency to the frame's arrival)."""

    def __init__(self, tab: SocketTab) -> None:
        self.tab = tab
        self.after = 0

    async def rows(self) -> int:
        return self.tab.rows_seen

    async def reset(self) -> None:
        self.after = max(self.tab.seq_arrival, default=0)

    async def wait(self, count: int, within: float) -> bool:
        return await wait_socket_rows(self.tab, count, within=within)

    async def samples(self, stamps: dict[int, float]) -> dict[str, list[float]]:
        total = self.tab.latencies(after_seq=self.after, stamps=stamps)
        return {"total": total, "server": [], "browser": []}


Started = Callable[[str], Awaitable[object]]


async def _start_in(page: Page, url: str, count: int, started: Started) -> list[str]:
    ids = []
    for _ in range(count):
        cid = await start_conversation(page, url)
        await started(cid)
        ids.append(cid)
    return ids


async def _start_many(context: BrowserContext, url: str, count: int, started: Started) -> list[str]:
    """Start `count` conversations from a few pages at once, calling `started` with each id
    while its page is still in the room; the pages are closed at the end."""
    pages = [await context.new_page() for _ in range(min(STARTER_PAGES, count))]
    shares = [count // len(pages) + (i < count % len(pages)) for i in range(len(pages))]
    ids = await asyncio.gather(
        *(_start_in(p, url, n, started) for p, n in zip(pages, shares, strict=True))
    )
    for page in pages:
        await page.close()
    return [cid for part in ids for cid in part]


async def _connect_auth(context: BrowserContext, url: str, conversation_id: str) -> dict[str, Any]:
    """The CONNECT packet a freshly loaded room page sends (to replay in `SocketTab`s)."""
    page = await context.new_page()
    captured: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    def on_socket(ws: Any) -> None:
        def on_sent(payload: str | bytes) -> None:
            text = payload if isinstance(payload, str) else payload.decode()
            if text.startswith(CONNECT_PREFIX) and not captured.done():
                captured.set_result(text)

        if "/_event" in ws.url:
            ws.on("framesent", on_sent)

    page.on("websocket", on_socket)
    await page.goto(f"{url}/room/{conversation_id}")
    text = await asyncio.wait_for(captured, 60)
    await page.close()
    return dict(json.loads(text[len(CONNECT_PREFIX) :]))


async def _stream(driver: RoomDriver, *, delay: float, events: int) -> int:
    await asyncio.sleep(delay)
    return await driver.stream(events=events, rate=RATE, words=ECHO_WORDS)


async def run(ctx: BenchContext) -> list[Row]:
    """Start 50 conversations with a tab each, stream into all, measure latency and memory."""
    app = await ctx.app()
    seconds = 10 if ctx.quick else 30
    per_conversation = int(RATE * seconds)
    chromium_tabs = bool(ctx.options.get("chromium_tabs"))
    context = await ctx.probed_context()
    async with AsyncExitStack() as stack:
        stack.push_async_callback(context.close)
        drivers_by_id: dict[str, RoomDriver] = {}

        async def join(cid: str) -> None:
            # A person must be in the room (the session leaves a room every person has left),
            # and the starter page leaves it: the driver joins before that.
            drivers_by_id[cid] = await stack.enter_async_context(RoomDriver(app, cid))

        async def open_tabs(count: int) -> list[tuple[str, Tab]]:
            if chromium_tabs:
                opened = []
                for _ in range(count):
                    page = await context.new_page()
                    cid = await start_conversation(page, app.url)
                    await join(cid)
                    opened.append((cid, PageTab(page)))
                return opened
            ids = await _start_many(context, app.url, count, join)
            auth = ctx.options.get("connect_auth")
            if auth is None:
                auth = ctx.options["connect_auth"] = await _connect_auth(context, app.url, ids[0])
            tabs: list[tuple[str, Tab]] = []
            cookie = await cookie_header(context, app.url)
            for cid in ids:
                tab = await stack.enter_async_context(
                    SocketTab(app.url, retarget(auth, cid), cookie=cookie)
                )
                tabs.append((cid, SubscriberTab(tab)))
            return tabs

        rooms = await open_tabs(1)
        await asyncio.sleep(3)
        rss_before = app.rss()
        rooms += await open_tabs(CONVERSATIONS - 1)
        await asyncio.sleep(3)
        drivers = [drivers_by_id[cid] for cid, _ in rooms]
        before = [await tab.rows() for _, tab in rooms]
        for _, tab in rooms:
            await tab.reset()
        period = (ECHO_WORDS // 3 + 3) / RATE
        meter = CpuMeter(app.backend)
        meter.start()
        sent = await asyncio.gather(
            *(
                _stream(d, delay=i * period / len(drivers), events=per_conversation)
                for i, d in enumerate(drivers)
            )
        )
        waited = await asyncio.gather(
            *(tab.wait(before[i] + sent[i], 60) for i, (_, tab) in enumerate(rooms))
        )
        complete = all(waited)
        cpu = meter.stop()
        rss_after = app.rss()
        latencies: list[float] = []
        server: list[float] = []
        browser: list[float] = []
        per_tab: list[int] = []
        for (_, tab), driver in zip(rooms, drivers, strict=True):
            samples = await tab.samples(driver.stamps)
            per_tab.append(len(samples["total"]))
            latencies += samples["total"]
            server += samples["server"]
            browser += samples["browser"]
        if not latencies:
            raise RuntimeError("no event reached any tab")
        relay = Summary.of(latencies)
        ok_latency = relay.p99 < P99_TARGET_MS and complete
        profile_note = ""
        if not ok_latency:
            load = asyncio.gather(
                *(
                    _stream(d, delay=i * period / len(drivers), events=int(RATE * 8))
                    for i, d in enumerate(drivers)
                )
            )
            profile = await profile_while(app.backend.pid, 8, load)
            if profile is not None:
                profile_note = profile.note(
                    "py-spy on the backend during 8 s more of the same load"
                )
        await app.end_conversations([cid for cid, _ in rooms])

    per_conv_mb = (rss_after - rss_before) / (CONVERSATIONS - 1) / 2**20
    total_sent = sum(sent)
    tabs = (
        f"{CONVERSATIONS} room pages in one headless Chromium (latency to the DOM)"
        if chromium_tabs
        else f"{CONVERSATIONS} socket subscribers (Reflex websocket protocol, no rendering)"
    )
    split = (
        f"server part (event -> frame in browser) {Summary.of(server).short()}; browser part "
        f"(frame -> DOM) {Summary.of(browser).short()}"
        if server and browser
        else ""
    )
    load_text = (
        f"CPU during the run: backend {cpu['backend_cores']:.0%} of a core, Chromium "
        f"{cpu['browser_cores']:.0%} (2 cores in all)"
    )
    lost = "" if complete else f"only {relay.count} of {total_sent} events arrived; "
    details = {
        "tabs": tabs,
        "events_sent": total_sent,
        "events_received": relay.count,
        "events_received_per_tab": {"min": min(per_tab), "max": max(per_tab)},
        "relay_ms": vars(relay),
        "rss_before_mb": rss_before / 2**20,
        "rss_after_mb": rss_after / 2**20,
        "cpu_cores": cpu,
    }
    return [
        Row(
            SECTION,
            f"relay p99, {CONVERSATIONS} conversations x {RATE:.0f} events/s",
            relay.p99,
            "ms",
            target=f"< {P99_TARGET_MS:.0f} ms",
            comparison=f"{relay.short()} over {relay.count} events; {tabs}",
            status=verdict(ok_latency),
            note="; ".join(filter(None, [lost, split, load_text, profile_note])),
            details=details,
        ),
        Row(
            SECTION,
            "backend memory per conversation",
            per_conv_mb,
            "MB",
            target=f"< {MEMORY_TARGET_MB:.0f} MB",
            comparison=(
                f"backend RSS {rss_before / 2**20:.0f} MB with 1 live conversation, "
                f"{rss_after / 2**20:.0f} MB with {CONVERSATIONS} after streaming"
            ),
            status=verdict(per_conv_mb < MEMORY_TARGET_MB),
        ),
    ]
