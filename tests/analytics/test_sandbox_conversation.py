"""Analytics of a real sandbox conversation whose timings are known from the replica's pace.

The simulated replica speaks `WORDS_PER_SECOND` words a second and a typed turn is spoken by
the user at the same pace, so the talk times follow from the words said; the figures are read
back from the real store (SQLite and PostgreSQL) exactly as the history page reads them.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable

import pytest
from sqlmodel import Session

from cvi_app.analytics.figures import ConversationFigures
from cvi_app.analytics.reading import figures_of
from cvi_app.config import Settings
from cvi_app.live.manager import SessionManager, StartOptions
from cvi_app.store.conversations import get_conversation
from cvi_app.store.db import get_engine, run_in_transaction
from cvi_app.store.events import list_events_by_arrival
from tests.support.sandbox import SANDBOX_KEY, start_sandbox

WORDS_PER_SECOND = 10.0
GREETING = "Hello there, welcome to the call."  # 6 words: 0.6 s
TURN = "one two three four five six seven eight nine ten"  # 10 words: 1.0 s
OWNER = "a" * 64
SLACK_S = 0.35
"""How far a talk time may be from its words' time (event hops on a busy 2-core machine)."""


@pytest.fixture
async def paced_manager(
    app_database: str, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[SessionManager]:
    monkeypatch.delenv("TAVUS_API_KEY", raising=False)
    async with start_sandbox(mount="/sandbox", words_per_second=WORDS_PER_SECOND) as sandbox:
        settings = Settings(  # type: ignore[call-arg]
            CVI_PUBLIC_URL=sandbox.root_url, CVI_SANDBOX_API_KEY=SANDBOX_KEY
        )
        manager = SessionManager(settings)
        try:
            yield manager
        finally:
            await manager.aclose()


async def _until(condition: Callable[[], bool], what: str, within: float = 20.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def test_the_figures_of_a_paced_conversation_match_its_words(
    paced_manager: SessionManager,
) -> None:
    conversation = await paced_manager.start_conversation(
        owner=OWNER, options=StartOptions(greeting=GREETING)
    )
    cid = conversation.conversation_id
    session = paced_manager.live_session(cid)
    assert session is not None
    await _until(lambda: session.summary().last_line.startswith("Hello there"), "the greeting")
    await _until(lambda: not session.speaking.replica, "the greeting to end")
    await session.respond(TURN)
    await _until(
        lambda: (
            session.summary().last_speaker == "replica"
            and not session.summary().last_line.startswith("Hello there")
        ),
        "the answer",
    )
    await _until(lambda: not session.speaking.replica and not session.speaking.user, "quiet")
    await paced_manager.end_conversation(cid, owner=OWNER)

    def figures_and_replies(db: Session) -> tuple[ConversationFigures, list[str]]:
        row = get_conversation(db, conversation_id=cid)
        assert row is not None and row.status == "ended"
        events = list_events_by_arrival(db, conversation_id=cid, limit=1000)
        replies = [
            e.text or ""
            for e in events
            if e.event_type == "conversation.utterance" and e.role == "replica"
        ]
        return figures_of(db, row), replies

    figures, replies = await run_in_transaction(get_engine(), figures_and_replies)
    assert replies[0] == GREETING and len(replies) == 2
    reply_words = len(replies[1].split())

    assert figures.to_replica_joined_s is not None and figures.to_first_utterance_s is not None
    assert 0 <= figures.to_replica_joined_s <= figures.to_first_utterance_s
    assert [t.trigger for t in figures.turns] == ["user"]
    assert 0 <= figures.turns[0].latency_s < 0.5, "the sandbox answers at once"
    assert figures.user_talk_s == pytest.approx(10 / WORDS_PER_SECOND, abs=SLACK_S)
    expected_replica = (6 + reply_words) / WORDS_PER_SECOND
    assert figures.replica_talk_s == pytest.approx(expected_replica, abs=2 * SLACK_S)
    assert figures.end_reason
    assert figures.duration_s is not None and figures.duration_s >= expected_replica
