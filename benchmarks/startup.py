"""Cold start to the first page, and the size of the production frontend.

- `make run` equivalent on a prepared machine (packages and the frontend's node_modules already
  installed; a private copy of `.web/` so nothing else in the tree is disturbed): migrations,
  then `reflex run` (dev mode: the frontend dev server and the backend),
  timed from launch to the first HTTP 200 of `/` and to the home page showing its mode badge in
  Chromium (compiled, hydrated, connected to the backend).
- `make run-prod` equivalent: the app the other sections use, `reflex run --env prod
  --single-port` (production build included), timed from launch to `/` answering.
- Bundle: every JS and CSS file of the production build (`build/client` in the app's web
  directory, the one `reflex run --env prod` built for the other sections), each gzipped
  (level 6, gzip's default) and summed; and what the home page actually transfers (Chromium's
  encoded response sizes: the server sends the precompressed files).
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
from playwright.async_api import expect

from benchmarks.harness import BenchContext, private_web_dir
from benchmarks.report import Row
from tests.support.app_server import ROOT, free_port

logger = logging.getLogger(__name__)

SECTION = "startup"
VENV_BIN = Path(sys.executable).parent
START_TIMEOUT = 240.0


def _dev_env(workdir: Path, backend_port: int, frontend_port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TAVUS_", "CVI_"))}
    env.update(
        PATH=f"{ROOT / '.tools' / 'node_modules' / '.bin'}:{VENV_BIN}:{env.get('PATH', '')}",
        REFLEX_USE_SYSTEM_BUN="1",
        REFLEX_CHECK_LATEST_VERSION="0",
        REFLEX_TELEMETRY_ENABLED="false",
        REFLEX_DB_URL=f"sqlite:///{workdir / 'dev.db'}",
        CVI_PUBLIC_URL=f"http://127.0.0.1:{backend_port}",
        # The dev frontend runs on its own port: its pages' origin must be allowed to connect.
        CVI_ALLOWED_ORIGINS=f"http://127.0.0.1:{frontend_port}",
        PYTHONUNBUFFERED="1",
    )
    return env


async def _wait_http(url: str, proc: asyncio.subprocess.Process, deadline: float) -> None:
    async with httpx.AsyncClient(timeout=5) as client:
        while time.monotonic() < deadline:
            if proc.returncode is not None:
                raise RuntimeError(f"reflex run exited with {proc.returncode}")
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get(url)).status_code == 200:
                    return
            await asyncio.sleep(0.2)
    raise TimeoutError(f"{url} did not answer within {START_TIMEOUT:.0f}s")


async def dev_cold_start(ctx: BenchContext) -> dict[str, float]:
    """One `make run`-equivalent start: seconds to migrated, to `/` served, to the page ready."""
    workdir = ctx.workdir / f"dev-{time.monotonic_ns()}"
    workdir.mkdir()
    frontend, backend = free_port(), free_port()
    env = _dev_env(workdir, backend, frontend)
    web = await asyncio.to_thread(private_web_dir, workdir / "web")
    if web is not None:
        env["REFLEX_WEB_WORKDIR"] = str(web)
    log = (workdir / "reflex.log").open("wb")
    started = time.monotonic()
    migrate = await asyncio.create_subprocess_exec(
        str(VENV_BIN / "python"),
        "-m",
        "cvi_app.store.migrate",
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    if await migrate.wait() != 0:
        raise RuntimeError("migrations failed")
    migrated = time.monotonic() - started
    proc = await asyncio.create_subprocess_exec(
        str(VENV_BIN / "reflex"),
        "run",
        "--frontend-port",
        str(frontend),
        "--backend-port",
        str(backend),
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        url = f"http://127.0.0.1:{frontend}/"
        await _wait_http(url, proc, started + START_TIMEOUT)
        served = time.monotonic() - started
        browser = await ctx.browser()
        page = await browser.new_page()
        try:
            await page.goto(url, timeout=START_TIMEOUT * 1000)
            await expect(page.locator("#mode-badge")).to_have_text(
                "Sandbox", timeout=START_TIMEOUT * 1000
            )
        finally:
            await page.close()
        ready = time.monotonic() - started
    except Exception:
        log.flush()
        logger.error("reflex run log:\n%s", (workdir / "reflex.log").read_text()[-3000:])
        raise
    finally:
        await _stop(proc)
        log.close()
    return {"migrated": migrated, "served": served, "ready": ready}


async def _stop(proc: asyncio.subprocess.Process) -> None:
    """Stop `reflex run` and everything it started (its own process group)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        await asyncio.wait_for(proc.wait(), 20)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        await proc.wait()


def bundle_sizes(build_dir: Path) -> dict[str, int]:
    """Raw and gzipped bytes of every JS and CSS file of the production build."""
    raw = gzipped = files = 0
    for path in sorted(build_dir.rglob("*")):
        if path.suffix not in (".js", ".css") or not path.is_file():
            continue
        with contextlib.suppress(FileNotFoundError):  # a concurrent build may replace files
            data = path.read_bytes()
            raw += len(data)
            gzipped += len(gzip.compress(data, compresslevel=6, mtime=0))
            files += 1
    return {"files": files, "raw": raw, "gzip": gzipped}


async def home_page_transfer(ctx: BenchContext) -> dict[str, int]:
    """JS and CSS bytes the production home page transfers on a first visit (encoded)."""
    app = await ctx.app()
    browser = await ctx.browser()
    context = await browser.new_context()
    responses = []
    try:
        page = await context.new_page()
        page.on("requestfinished", lambda request: responses.append(request))
        await page.goto(app.url)
        await expect(page.locator("#mode-badge")).to_have_text("Sandbox", timeout=60_000)
        total = count = 0
        for request in responses:
            if request.resource_type in ("script", "stylesheet"):
                sizes = await request.sizes()
                total += sizes["responseBodySize"]
                count += 1
    finally:
        await context.close()
    return {"files": count, "bytes": total}


async def run(ctx: BenchContext) -> list[Row]:
    """Cold starts (dev and prod) and the production frontend's size."""
    app = await ctx.app()
    runs = [await dev_cold_start(ctx) for _ in range(1 if ctx.quick else 2)]
    best = min(runs, key=lambda r: r["ready"])
    bundle = bundle_sizes(app.web_dir / "build" / "client")
    home = await home_page_transfer(ctx)
    all_runs = ", ".join(f"{r['ready']:.1f}" for r in runs)
    return [
        Row(
            SECTION,
            "cold start, make run (dev): first page ready",
            best["ready"],
            "s",
            comparison=(
                f"migrations {best['migrated']:.1f} s; `/` served at {best['served']:.1f} s; "
                f"ready (badge shown, backend connected) at {best['ready']:.1f} s; "
                f"runs: {all_runs} s"
            ),
            details={"runs": runs},
        ),
        Row(
            SECTION,
            "cold start, make run-prod: first page served",
            app.ready_seconds,
            "s",
            comparison="migrations + production build + backend up, to `/` answering 200",
        ),
        Row(
            SECTION,
            "production frontend, gzipped (JS + CSS)",
            bundle["gzip"] / 1024,
            "KB",
            comparison=(
                f"{bundle['files']} files, {bundle['raw'] / 1024:,.0f} KB raw; the home page "
                f"transfers {home['bytes'] / 1024:,.0f} KB in {home['files']} JS/CSS files"
            ),
            details={"bundle": bundle, "home_page": home},
        ),
    ]
