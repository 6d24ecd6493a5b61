"""Analytics: the insights of many stored conversations, computed cold and again from the cache.

Each conversation holds about 400 events shaped like the simulated replica's turns (started
speaking, the utterance, streaming updates, stopped speaking), each after the first answering a
user who spoke (started and stopped speaking), 50 ms apart. Timed: the insights
page's whole read for `CONVERSATIONS` conversations (`insights_figures`, then `insights`), first
with nothing cached (every conversation's moments read from the store and folded), then again
(ended conversations' figures come from the per-process cache). SQLite, then PostgreSQL.
"""

from __future__ import annotations

import logging
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from benchmarks.harness import BenchContext
from benchmarks.report import Row, verdict
from benchmarks.store import replica_turns
from cvi_app.analytics import reading
from cvi_app.analytics.insights import insights
from cvi_app.analytics.ranges import parse_query
from cvi_app.protocol import Event, parse_event
from cvi_app.store import ConversationCreate, create_conversation, create_db_engine, session_scope
from cvi_app.store.conversations import update_conversation_status
from cvi_app.store.events import insert_events
from cvi_app.store.from_protocol import new_event_from_protocol
from cvi_app.store.migrate import upgrade_to_head

logger = logging.getLogger(__name__)

SECTION = "analytics"
OWNER = "b" * 64
DAY = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
TARGET_COLD_S = 3.0
"""The insights page should answer within a few seconds for a range's worth of conversations."""


def _with_user_turns(turns: list[Event]) -> list[Event]:
    """The replica's turns, each after the first answering a user who spoke just before."""
    out: list[Event] = []
    for event in turns:
        if event.event_type == "conversation.replica.started_speaking" and out:
            for kind in (
                "conversation.user.started_speaking",
                "conversation.user.stopped_speaking",
            ):
                out.append(
                    parse_event(
                        {
                            "message_type": "conversation",
                            "event_type": kind,
                            "conversation_id": event.conversation_id,
                            "turn_idx": event.turn_idx,
                            "inference_id": event.inference_id,
                        }
                    )
                )
        out.append(event)
    return out


def _fill(url: str, conversations: int, events: int) -> None:
    upgrade_to_head(url)
    engine = create_db_engine(url)
    try:
        for n in range(conversations):
            cid = f"c-bench-analytics-{n:04d}"
            start = DAY + timedelta(minutes=n)
            with session_scope(engine) as session:
                create_conversation(
                    session,
                    data=ConversationCreate(
                        conversation_id=cid, mode="sandbox", owner_session=OWNER
                    ),
                    created_at=start,
                )
                rows = [
                    new_event_from_protocol(
                        event,
                        source="room",
                        received_at=start + timedelta(seconds=0.05 * i),
                    )
                    for i, event in enumerate(
                        _with_user_turns(replica_turns(events, conversation_id=cid))
                    )
                ]
                insert_events(session, events=rows)
                update_conversation_status(
                    session,
                    conversation_id=cid,
                    status="ended",
                    shutdown_reason="participant_left_timeout",
                    at=start + timedelta(seconds=0.05 * events + 1),
                )
    finally:
        engine.dispose()


def _timed(url: str) -> tuple[float, float, int]:
    engine = create_db_engine(url)
    query = parse_query("2026-11-01", "2026-11-30", None, today=date(2026, 12, 1))
    try:
        reading.forget_figures()
        began = time.perf_counter()
        with session_scope(engine) as session:
            figures, _ = reading.insights_figures(session, owner=OWNER, query=query)
        found = insights(figures)
        cold = time.perf_counter() - began
        began = time.perf_counter()
        with session_scope(engine) as session:
            again, _ = reading.insights_figures(session, owner=OWNER, query=query)
        insights(again)
        warm = time.perf_counter() - began
    finally:
        engine.dispose()
    return cold, warm, found.turns


def _rows(name: str, url: str, conversations: int, events: int) -> list[Row]:
    _fill(url, conversations, events)
    cold, warm, turns = _timed(url)
    detail = f"{conversations} conversations x {events} events; {turns} turns"
    return [
        Row(
            SECTION,
            f"insights {name}, cold",
            cold,
            "s",
            target=f"< {TARGET_COLD_S:.0f} s",
            comparison=f"{cold / conversations * 1000:.1f} ms per conversation; {detail}",
            status=verdict(cold < TARGET_COLD_S),
        ),
        Row(
            SECTION,
            f"insights {name}, cached",
            warm,
            "s",
            comparison=f"cold {cold:.2f} s; ratio {cold / max(warm, 1e-6):.0f}x",
        ),
    ]


async def run(ctx: BenchContext) -> list[Row]:
    """Insights over many stored conversations on SQLite, then on PostgreSQL."""
    conversations = 50 if ctx.quick else 200
    events = 400
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="cvi-bench-analytics-") as tmp:
        rows += _rows("SQLite", f"sqlite:///{Path(tmp) / 'a.db'}", conversations, events)
    try:
        from tests.support.postgres import running_postgres

        with running_postgres() as server:
            rows += _rows("PostgreSQL", server.create_database(), conversations, events)
    except Exception as exc:  # the server could not start: say so in the table
        logger.exception("PostgreSQL analytics benchmark failed")
        rows.append(Row(SECTION, "insights PostgreSQL", None, "s", status="failed", note=str(exc)))
    return rows
