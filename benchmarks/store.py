"""Store ingest: events through the live path's `EventWriter` into SQLite and PostgreSQL.

The events are what the simulated replica sends in a turn (started speaking, the utterance,
streaming updates, stopped speaking), parsed beforehand as the session parses them. Timed: each
event turned into its row (`new_event_from_protocol`, as `StoreRecorder` does) and submitted,
yielding to the event loop every few events as a live stream would, then `flush()` until every
event is committed. Checked afterwards: every event is in the table exactly once.

PostgreSQL is a throwaway server (tests/support/postgres.py: Debian's binaries, a temporary
directory, a free port).
"""

from __future__ import annotations

import asyncio
import logging
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks.harness import BenchContext
from benchmarks.profiling import profile_while
from benchmarks.report import Row, verdict
from cvi_app.protocol import Event, parse_event
from cvi_app.store import ConversationCreate, create_conversation, create_db_engine, session_scope
from cvi_app.store.events import count_events
from cvi_app.store.from_protocol import new_event_from_protocol
from cvi_app.store.migrate import upgrade_to_head
from cvi_app.store.writer import EventWriter

logger = logging.getLogger(__name__)

SECTION = "store"
TARGET_PER_S = 5000.0
YIELD_EVERY = 20
CONVERSATION = "c-bench-store"


def replica_turns(count: int, *, conversation_id: str = CONVERSATION) -> list[Event]:
    """`count` events shaped like the simulated replica's turns, with increasing `seq`."""
    words = "thanks for asking here is what our plans include and how much each one costs".split()
    events: list[Event] = []
    seq = 0
    turn = 0

    def add(event_type: str, **fields: object) -> None:
        nonlocal seq
        seq += 1
        events.append(
            parse_event(
                {
                    "message_type": "conversation",
                    "event_type": event_type,
                    "conversation_id": conversation_id,
                    "seq": seq,
                    "turn_idx": turn,
                    "inference_id": f"inf-{turn:08d}",
                    "timestamp": 1_700_000_000 + seq / 100,
                    **fields,
                }
            )
        )

    while len(events) < count:
        add("conversation.replica.started_speaking")
        add("conversation.utterance", properties={"role": "replica", "speech": " ".join(words)})
        for i in range(0, len(words), 3):
            add(
                "conversation.utterance.streaming",
                properties={
                    "role": "replica",
                    "speech": " ".join(words[: i + 3]),
                    "content_index": i // 3,
                    "final": i + 3 >= len(words),
                    "is_interrupted": False,
                },
            )
        add(
            "conversation.replica.stopped_speaking",
            properties={"duration": 4.2, "interrupted": False},
        )
        turn += 1
    return events[:count]


async def ingest(url: str, events: list[Event]) -> tuple[float, dict[str, int]]:
    """Write `events` through an `EventWriter`; return events/s and what the store holds."""
    engine = create_db_engine(url)
    try:
        with session_scope(engine) as session:
            create_conversation(
                session, data=ConversationCreate(conversation_id=CONVERSATION, mode="sandbox")
            )
        writer = EventWriter(engine)
        started = time.perf_counter()
        for i, event in enumerate(events, 1):
            writer.submit(
                new_event_from_protocol(event, source="room", conversation_id=CONVERSATION)
            )
            if i % YIELD_EVERY == 0:
                await asyncio.sleep(0)
        await writer.flush()
        elapsed = time.perf_counter() - started
        await writer.aclose()
        with session_scope(engine) as session:
            stored = count_events(session, conversation_id=CONVERSATION)
        stats = writer.stats
        return len(events) / elapsed, {
            "submitted": len(events),
            "stored": stored,
            "written": stats.written,
            "duplicates": stats.duplicates,
            "rejected": stats.rejected,
            "batches": stats.batches,
            "failed_attempts": stats.failed_attempts,
        }
    finally:
        engine.dispose()


async def _bench(name: str, make_url: Callable[[], str], events: list[Event]) -> Row:
    """Ingest into a fresh database; on a miss, profile a second ingest into another one."""
    url = await asyncio.to_thread(make_url)
    rate, held = await ingest(url, events)
    lost = held["submitted"] - held["stored"]
    ok = rate >= TARGET_PER_S and lost == 0 and held["rejected"] == 0
    note = ""
    if not ok:
        again = await asyncio.to_thread(make_url)
        seconds = max(2.0, min(10.0, len(events) / max(rate, 1)))
        profile = await profile_while(os.getpid(), seconds, ingest(again, events))
        note = profile.note("py-spy on the benchmark process, same ingest again") if profile else ""
    return Row(
        SECTION,
        f"ingest {name} ({len(events):,} events, EventWriter)",
        rate,
        "events/s",
        target=f">= {TARGET_PER_S:,.0f}/s, none lost",
        comparison=(
            f"stored {held['stored']:,} of {held['submitted']:,} (lost {lost}, duplicates "
            f"{held['duplicates']}, rejected {held['rejected']}) in {held['batches']} transactions"
        ),
        status=verdict(ok),
        note=note,
        details=held,
    )


def _migrated(url: str) -> str:
    upgrade_to_head(url)
    return url


async def run(ctx: BenchContext) -> list[Row]:
    """Ingest on SQLite, then on PostgreSQL; profile this process on a miss."""
    count = 10_000 if ctx.quick else 50_000
    events = replica_turns(count)
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="cvi-bench-store-") as tmp:
        files = (Path(tmp) / f"store-{i}.db" for i in range(100))
        rows.append(await _bench("SQLite", lambda: _migrated(f"sqlite:///{next(files)}"), events))
    try:
        from tests.support.postgres import running_postgres

        with running_postgres() as server:
            rows.append(
                await _bench("PostgreSQL", lambda: _migrated(server.create_database()), events)
            )
    except Exception as exc:  # the server could not start: say so in the table
        logger.exception("PostgreSQL benchmark failed")
        rows.append(
            Row(SECTION, "ingest PostgreSQL", None, "events/s", status="failed", note=str(exc))
        )
    return rows
