"""What the benchmarks drive: the real app, real Chromium, and the sandbox room as a participant.

- `BenchContext` starts the app (`reflex run --env prod --single-port`, as the browser tests do,
  but compiled and built in a private copy of `.web/`) and one Chromium on first use, and stops
  both at the end; sections share them.
- Pages get `probe.js` before the app's scripts run (see that file for what it records).
- `RoomDriver` joins a conversation's sandbox room over its WebSocket as a second participant
  (with the app's own `LocalTransport`) and sends `conversation.echo` interactions: the simulated
  replica answers each with the events of a real turn (started speaking, utterance, one streaming
  update per three words, stopped speaking), and those events travel the app's real path to the
  page. The replica stamps each event with `timestamp` (time.time()) when it builds it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
from playwright.async_api import Browser, BrowserContext, Page, async_playwright, expect

from cvi_app.protocol import split_echo_text
from cvi_app.sandbox.replica import WORDS_PER_CHUNK
from cvi_app.tavus import TavusClient
from cvi_app.transport import LocalTransport, TransportParams
from tests.support.app_server import ROOT, WEB_DIR, AppServer, private_web_dir, start_app_server

logger = logging.getLogger(__name__)

PROBE_JS = Path(__file__).with_name("probe.js")
CHROMIUM = "/usr/bin/chromium"
# The same flags as tests/browser/conftest.py (Debian's Chromium, offline).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LONG_MS = 60_000

WORDS_PER_SECOND = 60.0
"""The sandbox replica's speaking speed in the benchmark app: a streaming update every 50 ms."""
BENCH_ENV = {
    "CVI_SANDBOX_WORDS_PER_SECOND": str(WORDS_PER_SECOND),
    "CVI_SANDBOX_MAX_CONCURRENT": "64",
}

EVENTS_LOG = "[role=log][aria-label=Events]"
EVENTS_LIST = f"{EVENTS_LOG} [role=list]"
FILTER_BOX = "input[aria-label='Filter events']"


# ---- the app -----------------------------------------------------------------------------


@dataclass
class BenchApp:
    """The running app and its backend process."""

    server: AppServer
    backend: psutil.Process
    ready_seconds: float
    web_dir: Path
    """The frontend directory the app compiled and built (its production bundle is inside)."""

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def api_key(self) -> str:
        """The key the app's sandbox REST API accepts (the test server always sets one)."""
        return self.server.env["CVI_SANDBOX_API_KEY"]

    def client(self) -> TavusClient:
        """A client of the app's sandbox REST API."""
        return TavusClient(api_key=self.api_key, base_url=f"{self.url}/sandbox/v2")

    async def end_conversations(self, conversation_ids: list[str]) -> None:
        """End conversations through the sandbox REST API (the room closes; the app follows)."""
        async with self.client() as client:
            for cid in conversation_ids:
                await client.end_conversation(cid)

    def rss(self) -> int:
        """The backend's resident memory now, in bytes."""
        return int(self.backend.memory_info().rss)


def backend_process(port: int) -> psutil.Process:
    """The process listening on the app's port (the Reflex backend, not the CLI around it)."""
    for conn in psutil.net_connections(kind="tcp"):
        if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == port:
            if conn.pid is not None:
                return psutil.Process(conn.pid)
    raise RuntimeError(f"no process listens on port {port}")


class BenchContext:
    """Shared, lazily started app and browser for one benchmark run."""

    def __init__(self, *, quick: bool, options: dict[str, Any] | None = None) -> None:
        self.quick = quick
        self.options: dict[str, Any] = dict(options or {})
        self._stack = contextlib.AsyncExitStack()
        self._tmp = tempfile.TemporaryDirectory(prefix="cvi-bench-")
        self.workdir = Path(self._tmp.name)
        self._app: BenchApp | None = None
        self._browser: Browser | None = None

    async def __aenter__(self) -> BenchContext:
        return self

    async def __aexit__(self, *exc: object) -> None:
        try:
            await self._stack.aclose()
        finally:
            self._tmp.cleanup()

    async def app(self) -> BenchApp:
        """The app (started on first use, with its own fresh SQLite database and frontend)."""
        if self._app is None:
            workdir = self.workdir / "app"
            workdir.mkdir()
            env = dict(BENCH_ENV)
            web = await asyncio.to_thread(private_web_dir, workdir / "web")
            if web is not None:
                env["REFLEX_WEB_WORKDIR"] = str(web)
            started = time.monotonic()
            manager = start_app_server(workdir, extra_env=env)
            server = await asyncio.to_thread(manager.__enter__)
            self._stack.push_async_callback(asyncio.to_thread, manager.__exit__, None, None, None)
            self._app = BenchApp(
                server=server,
                backend=backend_process(server.port),
                ready_seconds=time.monotonic() - started,
                web_dir=web or ROOT / WEB_DIR,
            )
            logger.info("app up at %s in %.1fs", server.url, self._app.ready_seconds)
        return self._app

    async def browser(self) -> Browser:
        """One headless Chromium (started on first use)."""
        if self._browser is None:
            playwright = await self._stack.enter_async_context(async_playwright())
            self._browser = await playwright.chromium.launch(
                executable_path=CHROMIUM, args=CHROMIUM_ARGS
            )
            self._stack.push_async_callback(self._browser.close)
        return self._browser

    async def probed_context(self) -> BrowserContext:
        """A fresh browser context whose pages carry the probe, with its owner cookie set.

        The cookie is set by one page first: pages of a fresh context that load the app at the
        same moment each make their own owner token and the last one wins, so conversations
        the others started would belong to nobody in the context.
        """
        app = await self.app()
        browser = await self.browser()
        context = await browser.new_context()
        await context.add_init_script(path=str(PROBE_JS))
        page = await context.new_page()
        await page.goto(app.url)
        await expect(page.locator("#mode-badge")).to_have_text("Sandbox", timeout=LONG_MS)
        await page.close()
        return context


class CpuMeter:
    """CPU time used by the backend and by Chromium between `start()` and `stop()`."""

    def __init__(self, backend: psutil.Process) -> None:
        self.backend = backend
        self._start: tuple[float, float, float] | None = None

    @staticmethod
    def _cpu(processes: list[psutil.Process]) -> float:
        total = 0.0
        for proc in processes:
            with contextlib.suppress(psutil.Error):
                times = proc.cpu_times()
                total += times.user + times.system
        return total

    def _browser(self) -> list[psutil.Process]:
        return [
            p
            for p in psutil.Process().children(recursive=True)
            if "chrom" in (p.name() or "").lower()
        ]

    def _sample(self) -> tuple[float, float, float]:
        return time.monotonic(), self._cpu([self.backend]), self._cpu(self._browser())

    def start(self) -> None:
        self._start = self._sample()

    def stop(self) -> dict[str, float]:
        """Share of one core used by each, over the interval (1.0 = one core busy)."""
        assert self._start is not None
        end = self._sample()
        wall = max(end[0] - self._start[0], 1e-9)
        return {
            "backend_cores": (end[1] - self._start[1]) / wall,
            "browser_cores": (end[2] - self._start[2]) / wall,
        }


# ---- the room page -----------------------------------------------------------------------


async def start_conversation(page: Page, app_url: str) -> str:
    """Start a sandbox conversation from the home page; return its id once the room is live."""
    await page.goto(app_url)
    await expect(page.locator("#mode-badge")).to_have_text("Sandbox", timeout=LONG_MS)
    await page.get_by_role("button", name="Start conversation").click()
    await page.wait_for_url("**/room/**", timeout=LONG_MS)
    await expect(page.locator("#room-status")).to_have_attribute(
        "data-status", "live", timeout=LONG_MS
    )
    await page.wait_for_function(
        f"() => window.__bench && window.__bench.watchEventRows({EVENTS_LOG!r})",
        timeout=LONG_MS,
    )
    return page.url.rstrip("/").rsplit("/", 1)[-1]


async def end_conversation(page: Page) -> None:
    """End the conversation from its room page and wait until the page says so."""
    await page.get_by_role("button", name="End conversation").click()
    await expect(page.locator("#room-status")).to_have_attribute(
        "data-status", "ended", timeout=LONG_MS
    )


async def rows_seen(page: Page) -> int:
    """How many event rows the page has shown so far."""
    return int(await page.evaluate("window.__bench.seen.size"))


async def wait_quiet(page: Page, *, quiet: float = 1.0, within: float = 60.0) -> None:
    """Wait until the replica is not speaking and no new event row appeared for `quiet` s."""
    deadline = time.monotonic() + within
    last, since = -1, time.monotonic()
    while time.monotonic() < deadline:
        count = await rows_seen(page)
        speaking = await page.get_by_label("Replica speaking state").get_attribute("data-speaking")
        if count != last or speaking == "true":
            last, since = count, time.monotonic()
        elif time.monotonic() - since >= quiet:
            return
        await asyncio.sleep(0.1)
    raise TimeoutError("the room did not go quiet")


async def wait_rows(page: Page, count: int, *, within: float) -> bool:
    """Wait until the page has shown at least `count` event rows; False on timeout."""
    try:
        await page.wait_for_function(
            f"() => window.__bench.seen.size >= {count}", timeout=within * 1000, polling=100
        )
    except Exception:
        return False
    return True


async def clock_offset(page: Page, *, samples: int = 25) -> tuple[float, float]:
    """Browser clock minus this process's `time.time()`, in ms, and its uncertainty (RTT/2).

    The sample with the shortest round trip wins.
    """
    best: tuple[float, float] | None = None
    for _ in range(samples):
        before = time.time() * 1000
        browser_now = float(await page.evaluate("window.__bench.now()"))
        after = time.time() * 1000
        rtt = after - before
        if best is None or rtt < best[1]:
            best = (browser_now - (before + after) / 2, rtt)
    assert best is not None
    return best[0], best[1] / 2


async def take_probe(page: Page) -> dict[str, Any]:
    """What the probe recorded since the last take (frames, rows, first frame per seq)."""
    return dict(await page.evaluate("window.__bench.take()"))


# ---- the second participant --------------------------------------------------------------


def echo_events(words: int) -> int:
    """Events the replica sends for an echo of `words` words spoken to the end."""
    return 3 + math.ceil(words / WORDS_PER_CHUNK)


def echo_seconds(words: int) -> float:
    """How long the replica takes to speak an echo of `words` words."""
    return math.ceil(words / WORDS_PER_CHUNK) * WORDS_PER_CHUNK / WORDS_PER_SECOND


class RoomDriver:
    """A participant in a conversation's sandbox room that makes the replica speak."""

    def __init__(self, app: BenchApp, conversation_id: str) -> None:
        self.app = app
        self.conversation_id = conversation_id
        self._transport: LocalTransport | None = None
        self._count = 0
        self.arrivals: dict[int, float] = {}
        """When each replica event (by seq) reached this participant: time.time() in ms."""
        self.stamps: dict[int, float] = {}
        """The `timestamp` (Unix seconds) the replica stamped on each event, by seq."""

    async def __aenter__(self) -> RoomDriver:
        async with self.app.client() as client:
            conversation = await client.get_conversation(self.conversation_id)
        if not conversation.conversation_url:
            raise RuntimeError("the sandbox gave no room URL")
        self._transport = LocalTransport(
            TransportParams(
                room_url=conversation.conversation_url,
                meeting_token=conversation.meeting_token,
                user_name="bench-driver",
            )
        )
        self._transport.on_app_message(self._on_app_message)
        await self._transport.join()
        return self

    async def _on_app_message(self, data: dict[str, Any], sender_id: str) -> None:
        seq = data.get("seq")
        if isinstance(seq, int) and seq not in self.arrivals:
            self.arrivals[seq] = time.time() * 1000
            stamp = data.get("timestamp")
            if isinstance(stamp, int | float):
                self.stamps[seq] = float(stamp)

    async def __aexit__(self, *exc: object) -> None:
        if self._transport is not None:
            await self._transport.leave()

    async def echo(self, words: int) -> None:
        """Make the replica say `words` fresh words."""
        assert self._transport is not None
        self._count += 1
        text = " ".join(f"w{self._count}x{i}" for i in range(words))
        for chunk in split_echo_text(self.conversation_id, text):
            await self._transport.send(chunk)

    @property
    def last_seq(self) -> int:
        """The highest replica `seq` this participant has received."""
        return max(self.arrivals, default=0)

    async def pump(self, *, until_seq: int, rate: float, lag: int = 400) -> None:
        """Make the replica send events quickly until its `seq` reaches `until_seq`.

        Echoes are sent faster than they can be spoken, so each one interrupts the last (five
        events each: stopped speaking, the interrupted streaming update, interrupted, started
        speaking, the utterance). Sending pauses while the room is more than `lag` events
        behind, so no participant's queue overflows.
        """
        period = 5 / rate
        start = time.monotonic()
        sent = 0
        base = self.last_seq
        while self.last_seq < until_seq:
            if base + sent * 5 - self.last_seq > lag:
                await asyncio.sleep(0.02)
                start = time.monotonic() - sent * period
                continue
            delay = start + sent * period - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            await self.echo(3)
            sent += 1

    async def stream(self, *, events: int, rate: float, words: int) -> int:
        """Send echoes so the replica emits about `events` events at `rate` events/s.

        Returns:
            The number of events the replica will have sent.
        """
        per_echo = echo_events(words)
        period = per_echo / rate
        if period < echo_seconds(words):
            raise ValueError("echoes would overlap: use fewer words or a lower rate")
        echoes = math.ceil(events / per_echo)
        start = time.monotonic()
        for k in range(echoes):
            delay = start + k * period - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            await self.echo(words)
        return echoes * per_echo
