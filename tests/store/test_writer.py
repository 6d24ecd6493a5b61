"""EventWriter: batched writes that lose nothing acknowledged, even when the process dies."""

from __future__ import annotations

import asyncio
import logging
import os
import queue
import random
import signal
import subprocess
import sys
import threading

import pytest
from sqlalchemy import Engine, text

from cvi_app.store import (
    EventWriter,
    WriterClosedError,
    count_events,
    create_db_engine,
    list_events,
    session_scope,
)
from cvi_app.store.migrate import ROOT
from tests.store.helpers import add_conversation, utterance
from tests.support.servers import wait_for

WAIT_S = 60


def _all_seqs(engine: Engine, conversation_id: str = "c-test") -> list[int]:
    seqs: list[int] = []
    after = None
    with session_scope(engine) as session:
        while page := list_events(
            session, conversation_id=conversation_id, after_seq=after, limit=1000
        ):
            seqs.extend(e.seq for e in page if e.seq is not None)
            after = seqs[-1]
    return seqs


async def test_a_burst_of_10000_events_lands_whole_and_in_seq_order(engine: Engine) -> None:
    add_conversation(engine)
    events = [utterance(seq) for seq in range(1, 10_001)]
    random.Random(7).shuffle(events)

    async with EventWriter(engine) as writer:
        for event in events:
            writer.submit(event)
        await writer.flush()
        assert writer.pending == 0
        assert writer.stats.written == 10_000

    assert _all_seqs(engine) == list(range(1, 10_001))


async def test_flush_means_committed_and_visible_to_other_connections(
    engine: Engine, migrated_url: str
) -> None:
    add_conversation(engine)
    reader = create_db_engine(migrated_url)
    try:
        async with EventWriter(engine, max_delay=30) as writer:
            await writer.add(utterance(1))
            await writer.add(utterance(2))
            await writer.flush()
            with session_scope(reader) as session:
                assert count_events(session, conversation_id="c-test") == 2
    finally:
        reader.dispose()


async def test_events_submitted_twice_are_stored_once(engine: Engine) -> None:
    add_conversation(engine)
    async with EventWriter(engine) as writer:
        writer.submit_many(utterance(seq) for seq in (1, 2, 2, 3))
        await writer.flush()
        writer.submit_many(utterance(seq) for seq in (3, 4))
        await writer.flush()
        assert (writer.stats.written, writer.stats.duplicates) == (4, 2)
    assert _all_seqs(engine) == [1, 2, 3, 4]


async def test_close_writes_everything_and_is_safe_twice(engine: Engine) -> None:
    add_conversation(engine)
    writer = EventWriter(engine, max_delay=30)
    writer.submit_many(utterance(seq) for seq in range(1, 51))
    await asyncio.gather(writer.aclose(), writer.aclose())
    await writer.aclose()
    assert _all_seqs(engine) == list(range(1, 51))
    with pytest.raises(WriterClosedError):
        writer.submit(utterance(51))


async def test_writes_wait_and_retry_until_the_database_can_take_them(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    add_conversation(engine)
    # The events table is out of reach: every write fails until it is back.
    await asyncio.to_thread(_rename_events_table, engine, "conversation_event", "events_away")
    writer = EventWriter(engine, retry_initial=0.01, retry_max=0.05)
    writer.submit_many(utterance(seq) for seq in range(1, 101))
    flushed = asyncio.ensure_future(writer.flush())
    await wait_for(
        lambda: writer.stats.failed_attempts >= 2, what="two failed attempts", within=WAIT_S
    )
    assert not flushed.done()

    await asyncio.to_thread(_rename_events_table, engine, "events_away", "conversation_event")
    await asyncio.wait_for(flushed, WAIT_S)
    await writer.aclose()
    assert _all_seqs(engine) == list(range(1, 101))
    assert writer.stats.rejected == 0
    assert "retrying" in caplog.text


def _rename_events_table(engine: Engine, old: str, new: str) -> None:
    with engine.begin() as connection:
        connection.execute(text(f"ALTER TABLE {old} RENAME TO {new}"))


async def test_an_event_the_database_refuses_is_logged_and_the_rest_still_land(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    add_conversation(engine)
    caplog.set_level(logging.ERROR, logger="cvi_app.store.writer")
    async with EventWriter(engine) as writer:
        writer.submit_many([utterance(1), utterance(2, conversation_id="c-unknown"), utterance(3)])
        await writer.flush()
        assert writer.stats.rejected == 1
    assert _all_seqs(engine) == [1, 3]
    assert "c-unknown" in caplog.text


def test_every_acknowledged_event_survives_sigkill(engine: Engine, migrated_url: str) -> None:
    add_conversation(engine)
    child = subprocess.Popen(
        [sys.executable, str(ROOT / "tests/store/writer_child.py"), migrated_url, "c-test"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        assert child.stdout is not None
        for line in child.stdout:
            lines.put(line)
        lines.put(None)

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    acknowledged = 0
    try:
        while acknowledged < 2000:
            line = lines.get(timeout=WAIT_S)
            if line is None:
                pytest.fail(
                    f"writer child exited early: {child.stderr.read() if child.stderr else ''}"
                )
            acknowledged = int(line)
        child.send_signal(signal.SIGKILL)
    finally:
        if child.poll() is None:
            child.kill()
        child.wait(timeout=WAIT_S)
    reader.join(timeout=WAIT_S)
    while (line := lines.get_nowait()) is not None:
        acknowledged = int(line)

    assert child.returncode == -signal.SIGKILL
    stored = _all_seqs(engine)
    # Everything acknowledged is there, and batches commit in order: no gaps behind the last.
    assert len(stored) >= acknowledged
    assert stored == list(range(1, len(stored) + 1))
