"""ConversationState and its pagers: one stored conversation's page, for its owner only."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from cvi_app.state.conversation_state import (
    PAGE_SIZE,
    ConversationState,
    TimelinePager,
    TranscriptPager,
)
from cvi_app.store import insert_events, session_scope
from cvi_app.store.models import ToolCallCreate
from cvi_app.store.tool_calls import record_tool_call
from tests.store.helpers import add_conversation, utterance
from tests.support.reflex_tabs import Backend, Tab

CID = "c-history-1"
LINES = PAGE_SIZE + 10


def store(engine: Engine, owner: str, cid: str = CID) -> None:
    """A conversation of `owner` with LINES utterances and one tool call."""
    add_conversation(engine, cid, name="Quarterly review", owner_session=owner)
    with session_scope(engine) as s:
        insert_events(
            s, events=[utterance(seq, conversation_id=cid) for seq in range(1, LINES + 1)]
        )
        record_tool_call(
            s,
            call=ToolCallCreate(
                conversation_id=cid,
                tool_call_id="t-1",
                name="get_weather",
                arguments='{"city": "Lisbon"}',
            ),
        )


def texts(rows: list[dict[str, str]]) -> list[str]:
    return [row["text"] for row in rows]


async def open_page(tab: Tab, cid: str = CID) -> ConversationState:
    await tab.finished(await tab.open(f"/history/{cid}"), what="the page's handlers")
    return await tab.state(ConversationState)


async def test_the_owner_sees_the_conversation_and_pages_through_every_line(
    live_states: Backend, engine: Engine
) -> None:
    tab = live_states.tab()
    store(engine, tab.identity)

    page = await open_page(tab)

    assert page.access == "ok"
    assert (page.info["name"], page.info["status"]) == ("Quarterly review", "active")
    assert [(row["name"], row["status"]) for row in page.tool_calls] == [("get_weather", "pending")]
    transcript = await tab.state(TranscriptPager)
    first = texts(transcript.rows)
    assert first == [f"line {n}" for n in range(1, PAGE_SIZE + 1)]
    assert (transcript.has_older, transcript.has_newer) == (False, True)
    await tab.run(TranscriptPager.newer)
    assert texts(transcript.rows) == [f"line {n}" for n in range(PAGE_SIZE + 1, LINES + 1)]
    assert not transcript.has_newer
    await tab.run(TranscriptPager.older)
    assert texts(transcript.rows)[-1] == f"line {PAGE_SIZE}"
    timeline = await tab.state(TimelinePager)
    assert len(timeline.rows) == PAGE_SIZE and timeline.has_newer


async def test_the_official_transcript_is_empty_until_tavus_sends_one(
    live_states: Backend, engine: Engine
) -> None:
    tab = live_states.tab()
    store(engine, tab.identity)
    await open_page(tab)
    transcript = await tab.state(TranscriptPager)

    await tab.run(TranscriptPager.set_source, value="official")
    assert (transcript.source, transcript.rows) == ("official", [])
    await tab.run(TranscriptPager.set_source, value="live")
    assert texts(transcript.rows)[0] == "line 1"


@pytest.mark.parametrize("who", ["another browser", "no identity", "unknown id"])
async def test_anyone_else_is_denied_and_gets_no_rows(
    live_states: Backend, engine: Engine, who: str
) -> None:
    owner = live_states.tab()
    store(engine, owner.identity)
    tab = {
        "another browser": live_states.tab(),
        "no identity": live_states.tab(identity=""),
        "unknown id": owner,
    }[who]

    page = await open_page(tab, "c-unknown" if who == "unknown id" else CID)

    assert page.access == "denied"
    assert (page.info, page.tool_calls, page.webhooks) == ({}, [], [])
    assert (await tab.state(TranscriptPager)).rows == []
    assert (await tab.state(TimelinePager)).rows == []
    sent = tab.sent_json()
    assert "Quarterly review" not in sent and "line 1" not in sent and "Lisbon" not in sent


async def test_every_pager_checks_the_owner_of_the_conversation_its_event_names(
    live_states: Backend, engine: Engine
) -> None:
    tab = live_states.tab()
    store(engine, tab.identity, "c-mine")
    store(engine, live_states.tab().identity)
    await open_page(tab, "c-mine")
    transcript, timeline = await tab.state(TranscriptPager), await tab.state(TimelinePager)
    assert transcript.rows and timeline.rows
    before = len(tab.received)

    # Events sent by hand, naming another browser's conversation (no page load in between).
    tab.path = f"/history/{CID}"
    for handler in (TranscriptPager.newer, TimelinePager.older, TimelinePager.load):
        await tab.run(handler)
    await tab.run(TranscriptPager.set_source, value="official")
    await tab.run(TranscriptPager.set_source, value="live")

    assert (transcript.rows, timeline.rows) == ([], [])
    for pager in (TranscriptPager, TimelinePager):
        sent = [d["rows"] for d in tab.deltas(pager, since=before) if "rows" in d]
        assert sent and all(rows == [] for rows in sent), "the tab was sent no lines"
