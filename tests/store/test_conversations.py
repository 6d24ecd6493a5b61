"""Conversations: search by name, filter by status, numbered pages, and recording the end."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from cvi_app.store import (
    Conversation,
    ConversationCreate,
    create_conversation,
    get_conversation,
    search_conversations,
    session_scope,
    update_conversation_status,
)
from cvi_app.store.conversations import get_owned_conversation, is_owner, list_active_conversations

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _create(engine: Engine, cid: str, name: str, minutes: int, **fields: object) -> None:
    data = ConversationCreate.model_validate(
        {"conversation_id": cid, "mode": "sandbox", "name": name, **fields}
    )
    with session_scope(engine) as session:
        create_conversation(session, data=data, created_at=T0 + timedelta(minutes=minutes))


@pytest.fixture
def catalogue(engine: Engine) -> Engine:
    _create(engine, "c1", "Sales demo", 1)
    _create(engine, "c2", "Support call", 2, owner_session="tab-a")
    _create(engine, "c3", "sales follow-up", 3, owner_session="tab-a")
    _create(engine, "c4", "100% discount", 4)
    _create(engine, "c5", "Onboarding", 5)
    with session_scope(engine) as session:
        update_conversation_status(session, conversation_id="c2", status="ended")
    return engine


def test_search_by_name_is_case_insensitive_and_newest_first(catalogue: Engine) -> None:
    with session_scope(catalogue) as session:
        page = search_conversations(session, query="SALES")
    assert [c.conversation_id for c in page.items] == ["c3", "c1"]
    assert page.total == 2


def test_search_text_is_literal_not_a_pattern(catalogue: Engine) -> None:
    with session_scope(catalogue) as session:
        assert [c.name for c in search_conversations(session, query="100%").items] == [
            "100% discount"
        ]
        assert search_conversations(session, query="_").total == 0


def test_search_finds_a_conversation_by_its_id(catalogue: Engine) -> None:
    with session_scope(catalogue) as session:
        assert [c.conversation_id for c in search_conversations(session, query="c4").items] == [
            "c4"
        ]


def test_filter_by_status_and_owner(catalogue: Engine) -> None:
    with session_scope(catalogue) as session:
        ended = search_conversations(session, status="ended")
        active_mine = search_conversations(session, status="active", owner_session="tab-a")
    assert [c.conversation_id for c in ended.items] == ["c2"]
    assert [c.conversation_id for c in active_mine.items] == ["c3"]


def test_pages_cover_every_conversation_once(catalogue: Engine) -> None:
    with session_scope(catalogue) as session:
        pages = [search_conversations(session, page=n, limit=2) for n in (1, 2, 3)]
    assert [[c.conversation_id for c in p.items] for p in pages] == [
        ["c5", "c4"],
        ["c3", "c2"],
        ["c1"],
    ]
    assert {p.total for p in pages} == {5}


def test_a_conversation_id_can_be_created_only_once(engine: Engine) -> None:
    _create(engine, "c-dup", "one", 0)
    with pytest.raises(IntegrityError):
        _create(engine, "c-dup", "two", 0)


def test_webhook_ends_keep_the_first_reason_and_time(engine: Engine) -> None:
    _create(engine, "c-end", "ending", 0)
    first_end = T0 + timedelta(hours=1)
    with session_scope(engine) as session:
        assert update_conversation_status(
            session, conversation_id="c-end", status="ended", at=first_end, reported_by="webhook"
        )
    with session_scope(engine) as session:
        update_conversation_status(
            session,
            conversation_id="c-end",
            status="ended",
            shutdown_reason="participant_left_timeout reached",
            at=first_end + timedelta(minutes=5),
            reported_by="webhook",
        )
        update_conversation_status(
            session,
            conversation_id="c-end",
            status="ended",
            shutdown_reason="something else",
            reported_by="webhook",
        )
    stored = _stored(engine, "c-end")
    assert stored.status == "ended"
    assert stored.ended_at == first_end
    assert stored.shutdown_reason == "participant_left_timeout reached"


def _stored(engine: Engine, conversation_id: str) -> Conversation:
    with session_scope(engine) as session:
        stored = get_conversation(session, conversation_id=conversation_id)
    assert stored is not None
    return stored


def test_the_apps_own_end_corrects_a_reason_a_webhook_gave(engine: Engine) -> None:
    # A webhook's reason is only its word; the session (or the API) saw the end itself.
    _create(engine, "c-end", "ending", 0)
    webhook_end = T0 + timedelta(hours=1)
    with session_scope(engine) as session:
        update_conversation_status(
            session,
            conversation_id="c-end",
            status="ended",
            shutdown_reason="attacker says so",
            at=webhook_end,
            reported_by="webhook",
        )
    with session_scope(engine) as session:
        update_conversation_status(
            session,
            conversation_id="c-end",
            status="ended",
            shutdown_reason="end_conversation_endpoint_hit",
            at=webhook_end + timedelta(minutes=1),
        )
    stored = _stored(engine, "c-end")
    assert stored.shutdown_reason == "end_conversation_endpoint_hit"
    assert stored.ended_at == webhook_end


def test_a_webhook_does_not_replace_the_apps_own_reason(engine: Engine) -> None:
    _create(engine, "c-end", "ending", 0)
    with session_scope(engine) as session:
        update_conversation_status(
            session, conversation_id="c-end", status="ended", shutdown_reason="everyone left"
        )
    with session_scope(engine) as session:
        update_conversation_status(
            session,
            conversation_id="c-end",
            status="ended",
            shutdown_reason="attacker says so",
            reported_by="webhook",
        )
    assert _stored(engine, "c-end").shutdown_reason == "everyone left"


def test_an_app_end_without_a_reason_keeps_the_known_one(engine: Engine) -> None:
    _create(engine, "c-end", "ending", 0)
    with session_scope(engine) as session:
        update_conversation_status(
            session,
            conversation_id="c-end",
            status="ended",
            shutdown_reason="max_call_duration reached",
            reported_by="webhook",
        )
        update_conversation_status(session, conversation_id="c-end", status="ended")
    assert _stored(engine, "c-end").shutdown_reason == "max_call_duration reached"


def test_updating_an_unknown_conversation_reports_false(engine: Engine) -> None:
    with session_scope(engine) as session:
        assert not update_conversation_status(session, conversation_id="nope", status="ended")


def test_bad_mode_is_refused_before_it_reaches_the_database() -> None:
    with pytest.raises(ValueError, match="mode"):
        ConversationCreate.model_validate({"conversation_id": "c", "mode": "other"})


def test_active_conversations_are_listed_by_mode_a_page_at_a_time(engine: Engine) -> None:
    for minute, cid in enumerate(["a1", "a2", "a3", "a4"]):
        _create(engine, cid, cid, minute)
    _create(engine, "t1", "tavus one", 5, mode="tavus")
    _create(engine, "a-late", "late", 30)
    with session_scope(engine) as session:
        update_conversation_status(session, conversation_id="a2", status="ended")
    seen: list[str] = []
    after: str | None = None
    while True:
        with session_scope(engine) as session:
            page = list_active_conversations(
                session,
                mode="sandbox",
                created_before=T0 + timedelta(minutes=10),
                after_id=after,
                limit=2,
            )
        if not page:
            break
        seen += [row.conversation_id for row in page]
        after = page[-1].conversation_id
    assert seen == ["a1", "a3", "a4"]


def test_only_the_owner_gets_the_conversation(catalogue: Engine) -> None:
    with session_scope(catalogue) as s:
        assert get_owned_conversation(s, conversation_id="c2", owner="tab-a") is not None
        assert get_owned_conversation(s, conversation_id="c2", owner="tab-b") is None
        assert get_owned_conversation(s, conversation_id="c2", owner="") is None
        assert get_owned_conversation(s, conversation_id="c2", owner=None) is None
        assert get_owned_conversation(s, conversation_id="c-nope", owner="tab-a") is None
        # A conversation nobody owns (started before owners were recorded) is nobody's.
        assert get_owned_conversation(s, conversation_id="c1", owner="") is None


def test_a_blank_owner_never_matches() -> None:
    assert is_owner("tab-a", "tab-a")
    assert not is_owner("tab-a", "tab-b")
    assert not is_owner("", "")
    assert not is_owner(None, "tab-a")
    assert not is_owner("tab-a", None)


def test_a_blank_owner_finds_no_conversation_even_one_stored_without_owner(engine: Engine) -> None:
    _create(engine, "c-unowned", "Stored without an owner", 1, owner_session="")
    with session_scope(engine) as session:
        assert search_conversations(session, owner_session="").total == 0
        assert search_conversations(session).total == 1
