"""Websocket bytes per event, at a short and at a long history, beside the naive pattern.

Measured: one conversation, one room page in Chromium. The probe counts the payload bytes of
every frame the Reflex websocket delivers while the replica sends a block of events at 20/s,
divided by the events the block showed. First block right after the greeting (about 10 events
of history); then the replica is pumped to 10,000 events (the page closed meanwhile, so the
browser does not render 10,000 rows one update at a time) and a fresh room page, which restores
the recent history from the store, takes the second block.

Compared in the same run: the naive pattern (the whole event log in one list var, one item
appended per event), as Reflex itself would send it. The delta is computed with Reflex's own
`get_delta` and its socket.io JSON encoding on a throwaway state holding the conversation's real
event rows (read back from the store, shown by the app's presenter), at both histories. The
app's feed (`FeedState.events`: history once, then one ring slot per push) is computed the same way, to check the computation
against what Chromium received.
"""

from __future__ import annotations

import logging
from typing import Any

import reflex as rx
from reflex.state import State, StateUpdate
from reflex_base.utils import format as rx_format

from benchmarks.harness import (
    EVENTS_LOG,
    LONG_MS,
    BenchContext,
    RoomDriver,
    clock_offset,
    end_conversation,
    rows_seen,
    start_conversation,
    take_probe,
    wait_quiet,
    wait_rows,
)
from benchmarks.latency import relay_samples
from benchmarks.report import Row, verdict
from benchmarks.stats import Summary
from cvi_app.live.history import HISTORY_ROWS, updates_from_rows
from cvi_app.presentation.live_feed import FeedPresenter
from cvi_app.state.room_feed import FeedState
from cvi_app.store import create_db_engine, session_scope
from cvi_app.store.events import list_events_by_arrival

logger = logging.getLogger(__name__)

SECTION = "traffic"
RATE = 20.0
BLOCK_EVENTS = 60
ECHO_WORDS = 9
PUMP_RATE = 250.0
MAX_BYTES = 1500
SHORT_HISTORY = 10
MAX_GROWTH = 1.2
SOCKET_IO_PREFIX = "42/_event,"


class NaiveEventLog(rx.State):
    """The naive pattern DESIGN.md warns about: the whole event log in one list var."""

    rows: list[dict[str, Any]] = []


def frame_bytes(delta: dict[str, Any]) -> int:
    """Payload bytes of the socket.io frame Reflex sends for `delta`."""
    payload = rx_format.json_dumps(["event", StateUpdate(delta=delta)], separators=(",", ":"))
    return len((SOCKET_IO_PREFIX + payload).encode())


def naive_append_bytes(rows: list[dict[str, Any]], history: int, samples: int = 5) -> float:
    """Mean frame bytes for appending one row to a list var already holding `history` rows."""
    root = State(_reflex_internal_init=True)
    naive = root.substates[NaiveEventLog.get_name()]
    sizes = []
    for k in range(samples):
        naive.rows = rows[: history + k]
        root._clean()
        naive.rows.append(rows[history + k])
        sizes.append(frame_bytes(root.get_delta()))
    return sum(sizes) / len(sizes)


def ring_push_bytes(rows: list[dict[str, Any]], history: int, samples: int = 5) -> float:
    """Mean frame bytes of the app's event-log feed for one more row after `history`."""
    root = State(_reflex_internal_init=True)
    feeds = root.substates[FeedState.get_name()]
    feeds.show([], rows[max(0, history - HISTORY_ROWS) : history], reset=True)
    sizes = []
    for k in range(samples):
        root._clean()
        feeds.show([], [rows[history + k]], reset=False)
        sizes.append(frame_bytes(root.get_delta()))
    return sum(sizes) / len(sizes)


def stored_rows(db_url: str, conversation_id: str) -> list[dict[str, Any]]:
    """The conversation's event-log rows as the app shows them, rebuilt from the store."""
    engine = create_db_engine(db_url)
    try:
        stored = []
        after = None
        while True:
            with session_scope(engine) as session:
                page = list_events_by_arrival(
                    session, conversation_id=conversation_id, after_id=after, limit=1000
                )
            if not page:
                break
            stored += page
            after = page[-1].id
    finally:
        engine.dispose()
    presenter = FeedPresenter()  # as the room makes them: a turn's partials grouped in one row
    return [row for u in updates_from_rows(stored) if (row := presenter.present(u)[1]) is not None]


async def measure_block(page: Any, driver: RoomDriver) -> dict[str, Any]:
    """Send a block of events at 20/s; bytes per event, events shown, frames, relay latency."""
    await wait_quiet(page, quiet=0.5)
    before = await rows_seen(page)
    offset, _ = await clock_offset(page)
    await take_probe(page)
    sent = await driver.stream(events=BLOCK_EVENTS, rate=RATE, words=ECHO_WORDS)
    await wait_rows(page, before + sent, within=30)
    await wait_quiet(page, quiet=0.5)
    probe = await take_probe(page)
    shown = await rows_seen(page) - before
    total = sum(size for _, size in probe["frames"])
    first = min((row[0] for row in probe["rows"]), default=1) - 1
    latencies = relay_samples(probe, offset_ms=offset, after_seq=first, stamps=driver.stamps)[
        "total"
    ]
    return {
        "bytes_per_event": total / max(shown, 1),
        "shown": shown,
        "frames": len(probe["frames"]),
        "relay_ms": vars(Summary.of(latencies)) if latencies else None,
        "rows_in_page": await rows_seen(page),
    }


async def run(ctx: BenchContext) -> list[Row]:
    """Bytes per event at about 10 and at 10,000 events of history, beside the naive pattern."""
    app = await ctx.app()
    long_history = 2_000 if ctx.quick else 10_000
    context = await ctx.probed_context()
    try:
        page = await context.new_page()
        cid = await start_conversation(page, app.url)
        await wait_quiet(page)
        async with RoomDriver(app, cid) as driver:
            while await rows_seen(page) < SHORT_HISTORY:  # the greeting alone is a few events
                await driver.echo(3)
                await wait_quiet(page, quiet=0.5)
            short_history = await rows_seen(page)
            short = await measure_block(page, driver)
            await page.close()
            await driver.pump(until_seq=long_history, rate=PUMP_RATE)
            page = await context.new_page()
            await page.goto(f"{app.url}/room/{cid}")
            await page.wait_for_function(
                f"() => window.__bench && window.__bench.watchEventRows({EVENTS_LOG!r})",
                timeout=LONG_MS,
            )
            await wait_rows(page, 1, within=30)
            history_at_long = driver.last_seq
            long = await measure_block(page, driver)
        await end_conversation(page)
    finally:
        await context.close()

    short_bytes, short_shown, short_frames = (
        short["bytes_per_event"],
        short["shown"],
        short["frames"],
    )
    long_bytes, long_shown, long_frames = long["bytes_per_event"], long["shown"], long["frames"]
    rows = stored_rows(app.server.db_url, cid)
    naive_short = naive_append_bytes(rows, short_history)
    naive_long = naive_append_bytes(rows, history_at_long)
    ours_short = ring_push_bytes(rows, short_history)
    ours_long = ring_push_bytes(rows, history_at_long)
    growth = long_bytes / short_bytes
    naive_growth = naive_long / naive_short
    short_ok = short_bytes <= MAX_BYTES
    ok = long_bytes <= MAX_BYTES and growth <= MAX_GROWTH
    details = {
        "measured_bytes_per_event": {"short": short_bytes, "long": long_bytes},
        "history": {"short": short_history, "long": history_at_long},
        "events_in_block": {"short": short_shown, "long": long_shown},
        "frames_in_block": {"short": short_frames, "long": long_frames},
        "relay_ms_in_block": {"short": short["relay_ms"], "long": long["relay_ms"]},
        "rows_in_page_after_block": {"short": short["rows_in_page"], "long": long["rows_in_page"]},
        "stored_event_rows": len(rows),
        "computed_event_log_var_bytes": {
            "naive": {"short": naive_short, "long": naive_long},
            "ring_feed": {"short": ours_short, "long": ours_long},
        },
    }
    return [
        Row(
            SECTION,
            f"bytes/event at {short_history} events of history",
            short_bytes,
            "B",
            target=f"<= {MAX_BYTES:,} B",
            comparison=f"naive list append {naive_short:,.0f} B",
            status=verdict(short_ok),
            note=(
                f"{short_shown} events at {RATE:.0f}/s in {short_frames} frames; all Reflex "
                "frames counted (event log, transcript, speaking state)"
            ),
            details=details,
        ),
        Row(
            SECTION,
            f"bytes/event at {history_at_long:,} events of history",
            long_bytes,
            "B",
            target=f"<= {MAX_BYTES:,} B and <= {MAX_GROWTH}x the short history",
            comparison=(
                f"{growth:.2f}x the short history; naive list append {naive_long:,.0f} B "
                f"({naive_growth:,.0f}x)"
            ),
            status=verdict(ok),
            note=(
                f"{long_shown} events at {RATE:.0f}/s in {long_frames} frames, in a room page "
                f"opened after the pump (it restored the recent history from the store)"
            ),
        ),
        Row(
            SECTION,
            "event-log var per event, computed (ring feed)",
            ours_long,
            "B",
            comparison=(
                f"at {short_history}: {ours_short:,.0f} B; naive list at {short_history}: "
                f"{naive_short:,.0f} B, at {history_at_long:,}: {naive_long:,.0f} B"
            ),
            note=(
                "Reflex get_delta + socket.io JSON of the event-log var alone, on the "
                "conversation's real rows: a check of the measured numbers"
            ),
        ),
    ]
