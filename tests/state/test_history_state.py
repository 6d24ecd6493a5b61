"""HistoryState: this browser's conversations, searched, filtered and paged from the real store."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from cvi_app.state.history_state import PAGE_SIZE, HistoryState
from cvi_app.store import ConversationCreate, create_conversation, session_scope
from cvi_app.store.conversations import update_conversation_status
from tests.support.reflex_tabs import Backend, Tab

START = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


def store(
    engine: Engine, owner: str | None, names: list[str], *, ended: Collection[str] = ()
) -> None:
    """Store conversations of `owner`, one a minute from START, in the order named."""
    with session_scope(engine) as s:
        for n, name in enumerate(names):
            cid = f"c-{uuid.uuid4().hex[:12]}"
            data = ConversationCreate(
                conversation_id=cid, mode="sandbox", name=name, owner_session=owner
            )
            create_conversation(s, data=data, created_at=START + timedelta(minutes=n))
            if name in ended:
                update_conversation_status(
                    s, conversation_id=cid, status="ended", shutdown_reason="done"
                )


def mine(n: int) -> str:
    return f"Weekly call {n:02d}"


async def shown(tab: Tab) -> list[str]:
    return [row["name"] for row in (await tab.state(HistoryState)).rows]


async def test_only_this_browsers_conversations_show_newest_first_a_page_at_a_time(
    live_states: Backend, engine: Engine
) -> None:
    tab = live_states.tab()
    store(engine, tab.identity, [mine(n) for n in range(PAGE_SIZE + 5)])
    store(engine, live_states.tab().identity, ["Someone else's call"])
    store(engine, None, ["A call nobody owns"])

    await tab.finished(await tab.open("/history"))
    history = await tab.state(HistoryState)
    assert await shown(tab) == [mine(n) for n in range(PAGE_SIZE + 4, 4, -1)]
    assert (history.total, history.page_count, history.has_previous, history.has_next) == (
        PAGE_SIZE + 5,
        2,
        False,
        True,
    )
    assert history.loading is False and history.error == ""

    await tab.run(HistoryState.next_page)
    assert await shown(tab) == [mine(n) for n in range(4, -1, -1)]
    assert (history.page, history.has_previous, history.has_next) == (2, True, False)
    await tab.run(HistoryState.next_page)
    assert history.page == 2, "there is no third page"
    await tab.run(HistoryState.previous_page)
    assert (await shown(tab))[0] == mine(PAGE_SIZE + 4)

    sent = tab.sent_json()
    assert "Someone else" not in sent and "nobody owns" not in sent


async def test_a_search_and_a_status_filter_start_from_the_first_page(
    live_states: Backend, engine: Engine
) -> None:
    tab = live_states.tab()
    names = [mine(n) for n in range(PAGE_SIZE + 5)] + ["Sales demo", "sales follow-up"]
    store(engine, tab.identity, names, ended={mine(3), "Sales demo"})
    store(engine, live_states.tab().identity, ["Sales pitch of another browser"])
    await tab.finished(await tab.open("/history"))
    await tab.run(HistoryState.next_page)
    history = await tab.state(HistoryState)

    await tab.run(HistoryState.set_query, value="SALES")
    assert (history.page, await shown(tab)) == (1, ["sales follow-up", "Sales demo"])
    await tab.run(HistoryState.set_status, value="ended")
    assert await shown(tab) == ["Sales demo"]
    await tab.run(HistoryState.set_query, value="")
    assert await shown(tab) == ["Sales demo", mine(3)]
    assert history.total == 2 and not history.has_next
    await tab.run(HistoryState.set_status, value="not a status")
    assert history.status == "all" and history.total == len(names)


async def test_a_browser_that_proved_no_identity_sees_no_conversations(
    live_states: Backend, engine: Engine
) -> None:
    store(engine, None, ["A call nobody owns"])
    store(engine, live_states.tab().identity, ["Someone's call"])
    tab = live_states.tab(identity="")

    await tab.finished(await tab.open("/history"))

    history = await tab.state(HistoryState)
    assert (history.rows, history.total) == ([], 0)
    sent = tab.sent_json()
    assert "nobody owns" not in sent and "Someone's call" not in sent
