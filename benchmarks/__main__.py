"""`python -m benchmarks [section ...] [--quick] [--chromium-tabs]`: run, print one table.

Sections, in the order a full run takes them (all by default; the ones named run in the order
given, sharing one app server and one Chromium): latency, tabs (five room pages on one
conversation), phone (4x CPU throttling, a 390x844 viewport), traffic, store, analytics
(insights over many stored conversations, cold and cached), concurrency,
cluster (two app processes on one Redis beside one embedded process: relay, failover, memory),
startup, and soak last, as it is long (one room page for 10 minutes, 2 with --quick, its memory
sampled every minute). `--quick` takes fewer samples in every section; `--chromium-tabs` makes
`concurrency` use 50 Chromium room pages instead of socket subscribers. Writes
benchmarks/results.json (every row, with details). Exits 0 even when a target is missed (the
table says so, with a profile); non-zero only when a section could not run.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time
import traceback
from collections.abc import Awaitable, Callable

from benchmarks.harness import BenchContext
from benchmarks.report import RESULTS_PATH, Row, render_table, write_results

logger = logging.getLogger("benchmarks")

Section = Callable[[BenchContext], Awaitable[list[Row]]]


def _sections() -> dict[str, Section]:
    from benchmarks import (
        analytics,
        cluster,
        concurrency,
        latency,
        phone,
        soak,
        startup,
        store,
        tabs,
        traffic,
    )

    return {
        "latency": latency.run,
        "tabs": tabs.run,
        "phone": phone.run,
        "traffic": traffic.run,
        "store": store.run,
        "analytics": analytics.run,
        "concurrency": concurrency.run,
        "cluster": cluster.run,
        "startup": startup.run,
        "soak": soak.run,  # last: it runs for 10 minutes
    }


async def run_sections(
    names: list[str], *, quick: bool, options: dict[str, object]
) -> tuple[list[Row], dict[str, float]]:
    """Run the named sections in order, sharing one app and one browser."""
    sections = _sections()
    rows: list[Row] = []
    seconds: dict[str, float] = {}
    async with BenchContext(quick=quick, options=options) as ctx:
        for name in names:
            started = time.monotonic()
            logger.info("section %s: starting", name)
            try:
                rows += await sections[name](ctx)
            except Exception as exc:
                logger.error("section %s failed:\n%s", name, traceback.format_exc())
                rows.append(
                    Row(
                        name,
                        "section",
                        None,
                        "",
                        status="failed",
                        note=f"{type(exc).__name__}: {exc}",
                    )
                )
            seconds[name] = round(time.monotonic() - started, 1)
            logger.info("section %s: done in %.0fs", name, seconds[name])
    return rows, seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument(
        "sections",
        nargs="*",
        metavar="section",
        help="latency, tabs, phone, traffic, store, concurrency, cluster, startup, soak "
        "(default: all)",
    )
    parser.add_argument("--quick", action="store_true", help="fewer samples, for a quick look")
    parser.add_argument(
        "--chromium-tabs",
        action="store_true",
        help="concurrency: 50 real Chromium room pages instead of socket subscribers",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log more")
    args = parser.parse_args(argv)
    known = list(_sections())
    names = args.sections or known
    unknown = [n for n in names if n not in known]
    if unknown:
        parser.error(f"unknown section(s): {', '.join(unknown)} (choose from {', '.join(known)})")
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
        datefmt="%H:%M:%S",
        stream=sys.stderr,
    )
    for noisy in ("httpx", "websockets", "cvi_app"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    started = time.monotonic()
    options = {"chromium_tabs": args.chromium_tabs}
    rows, seconds = asyncio.run(run_sections(names, quick=args.quick, options=options))
    total = round(time.monotonic() - started, 1)
    path = write_results(
        rows,
        meta={
            "quick": args.quick,
            "options": options,
            "sections": names,
            "seconds": {**seconds, "total": total},
        },
    )
    sys.stdout.write(render_table(rows) + "\n")
    sys.stdout.write(
        f"\n{len(rows)} rows in {total:.0f}s; written to {path.relative_to(RESULTS_PATH.parents[1])}\n"
    )
    return 1 if any(r.status == "failed" for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
