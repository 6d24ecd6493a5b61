"""History windows: every line reachable page by page, older and newer, live and official."""

from __future__ import annotations

from sqlalchemy import Engine

from cvi_app.presentation.history_pages import (
    has_official_transcript,
    timeline_window,
    transcript_window,
    webhook_rows,
)
from cvi_app.protocol import TranscriptionReadyWebhook
from cvi_app.protocol.webhooks import TranscriptEntry, TranscriptionReadyProperties
from cvi_app.store import insert_events, session_scope
from tests.exports.conftest import deliver
from tests.store.helpers import add_conversation, utterance

CID = "c-test"


def _walk(engine: Engine, read, *, limit: int) -> tuple[list[str], list[str]]:
    """Page forwards to the end, then backwards to the start; return the texts seen each way."""
    forwards: list[str] = []
    with session_scope(engine) as s:
        window = read(s, after=None, before=None, limit=limit)
        assert not window.has_older
        pages = [window]
        while window.has_newer:
            window = read(s, after=window.last, before=None, limit=limit)
            pages.append(window)
        forwards = [row["text"] for page in pages for row in page.rows]
        backwards: list[str] = []
        while True:
            backwards = [row["text"] for row in window.rows] + backwards
            if not window.has_older:
                break
            window = read(s, after=None, before=window.first, limit=limit)
    return forwards, backwards


def test_the_live_transcript_pages_both_ways_without_gaps(engine: Engine) -> None:
    add_conversation(engine, CID)
    with session_scope(engine) as s:
        insert_events(s, events=[utterance(seq) for seq in range(1, 24)])
    forwards, backwards = _walk(
        engine,
        lambda s, **cursor: transcript_window(s, conversation_id=CID, **cursor),
        limit=5,
    )
    expected = [f"line {seq}" for seq in range(1, 24)]
    assert forwards == expected
    assert backwards == expected


def test_the_official_transcript_pages_both_ways_without_gaps(engine: Engine) -> None:
    add_conversation(engine, CID)
    texts = [f"official {i}" for i in range(12)]
    assert not _has_official(engine)
    deliver(
        engine,
        TranscriptionReadyWebhook(
            conversation_id=CID,
            properties=TranscriptionReadyProperties(
                transcript=[TranscriptEntry(role="user", content=text) for text in texts]
            ),
        ),
        at=1,
    )
    assert _has_official(engine)
    forwards, backwards = _walk(
        engine,
        lambda s, **cursor: transcript_window(s, conversation_id=CID, source="official", **cursor),
        limit=5,
    )
    assert forwards == texts
    assert backwards == texts
    with session_scope(engine) as s:
        assert webhook_rows(s, conversation_id=CID)[0]["summary"] == "transcript of 12 lines"


def test_the_timeline_shows_every_event_with_its_text(engine: Engine) -> None:
    add_conversation(engine, CID)
    with session_scope(engine) as s:
        insert_events(s, events=[utterance(seq, role="replica") for seq in range(1, 8)])
        first = timeline_window(s, conversation_id=CID, limit=4)
        second = timeline_window(s, conversation_id=CID, after=first.last, limit=4)
    assert [row["seq"] for row in first.rows + second.rows] == [str(n) for n in range(1, 8)]
    assert first.rows[0]["summary"] == "replica: line 1"
    assert first.has_newer and not second.has_newer and second.has_older


def _has_official(engine: Engine) -> bool:
    with session_scope(engine) as s:
        return has_official_transcript(s, conversation_id=CID)
