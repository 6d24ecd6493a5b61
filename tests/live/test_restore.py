"""Restoring a room (a reload, a second tab, a resync) during a burst shows every update once.

The room restores through `cvi_app.live.history.restore`: it subscribes and takes the session's
replay in one step, reads only older updates from the store, and applies the live stream past
the last update id it restored. Here many restores run while the replica streams a burst of
events through a real session over the sandbox, recorded by the batched store writer; once the
burst is over, each restored view must be exactly what the store holds, in order, each once.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine

from cvi_app.live.history import HISTORY_ROWS, Restored, restore
from cvi_app.live.updates import EventReceived, InteractionSent, LiveUpdate
from cvi_app.presentation.live_feed import FeedPresenter
from cvi_app.store import session_scope
from cvi_app.store.events import list_events_by_arrival
from cvi_app.store.models import ConversationEvent
from tests.live.conftest import Live

FIRST_SEQ = 1_000_000
"""The burst follows the real replica's own stream, far above its `seq` values."""
BURST = 150
RESTORES = 40


def line(cid: str, seq: int, speech: str) -> dict[str, Any]:
    return {
        "message_type": "conversation",
        "event_type": "conversation.utterance",
        "conversation_id": cid,
        "seq": seq,
        "properties": {"role": "replica", "speech": speech},
    }


def key(update: LiveUpdate) -> tuple[str, Any] | None:
    """What identifies an update that the store keeps (None for those it does not)."""
    if isinstance(update, EventReceived):
        return ("event", update.event.seq)
    if isinstance(update, InteractionSent):
        return ("sent", update.interaction.to_message().get("properties", {}).get("text"))
    return None


def row_key(row: ConversationEvent) -> tuple[str, Any]:
    if row.source == "app":
        return ("sent", row.text)
    return ("event", row.seq)


@dataclass
class View:
    """One restored tab: what it restored, then what its subscription brought."""

    restored: Restored
    shown: list[LiveUpdate] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.shown.extend(self.restored.updates)

    def follow(self) -> None:
        for update in self.restored.subscription.drain():
            if self.restored.is_new(update):
                self.shown.append(update)

    def keys(self) -> list[tuple[str, Any]]:
        return [k for u in self.shown if (k := key(u)) is not None]

    def transcript(self) -> list[str]:
        presenter = FeedPresenter()
        merged: dict[str, str] = {}
        for update in self.shown:
            for item in presenter.lines(update):
                if "text" in item:
                    merged[item["id"]] = item["text"]
        return list(merged.values())


def assert_same(shown: list[Any], expected: list[Any], what: str) -> None:
    """Fail with what is missing and what is repeated (pytest's own list diff is too slow)."""
    if shown == expected:
        return
    missing = [k for k in expected if k not in shown]
    repeated = sorted({k for k in shown if shown.count(k) > 1}, key=str)
    raise AssertionError(
        f"{what} shows {len(shown)} updates, the store holds {len(expected)}: "
        f"missing {missing[:5]} ({len(missing)}), repeated {repeated[:5]} ({len(repeated)})"
    )


def stored(engine: Engine, cid: str) -> list[ConversationEvent]:
    with session_scope(engine) as s:
        return list_events_by_arrival(s, conversation_id=cid, limit=1000)


async def test_restores_during_a_burst_each_show_the_stored_conversation_once(
    open_session: Any, engine: Engine, app_database: str
) -> None:
    live: Live = await open_session()
    await live.seen.wait(lambda: live.seen.turns_finished() >= 1, "the greeting")
    session, cid, replica = live.session, live.cid, live.replica_id()
    await session.respond("Before the burst")
    views: list[View] = []
    burst_over = asyncio.Event()

    async def burst() -> None:
        for n in range(BURST):
            session.handle_app_message(line(cid, FIRST_SEQ + n, f"Burst line {n}"), replica)
            if n % 15 == 0:
                await session.echo(f"Echo {n}")
            await asyncio.sleep(0.001 if n % 7 else 0.02)
        burst_over.set()

    async def reload_again_and_again() -> None:
        while not burst_over.is_set() and len(views) < RESTORES:
            views.append(View(await restore(session.bus, session, cid)))
            await asyncio.sleep(0.005)

    await asyncio.gather(burst(), reload_again_and_again(), reload_again_and_again())
    await session.recorder.flush()
    rows = stored(engine, cid)
    assert len(rows) < HISTORY_ROWS, "the whole conversation fits in one restore"
    expected = [row_key(row) for row in rows]
    assert len(views) >= 10
    try:
        for n, view in enumerate(views):
            view.follow()
            assert_same(view.keys(), expected, f"restore {n}")
        last = View(await restore(session.bus, session, cid))
        assert_same(last.keys(), expected, "the restore after the burst")
        assert all(view.transcript() == last.transcript() for view in views)
        assert f"Burst line {BURST - 1}" in last.transcript()
    finally:
        for view in views:
            view.restored.subscription.close()
