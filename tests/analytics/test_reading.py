"""Figures and insights read from the real store (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import Engine

from cvi_app.analytics.insights import Insights, insights
from cvi_app.analytics.ranges import parse_query
from cvi_app.analytics.reading import figures_of, insights_figures
from cvi_app.deployments.queries import rate_visit
from cvi_app.store import session_scope
from cvi_app.store.conversations import get_conversation
from tests.analytics.stored import DAY, store_conversation

OWNER = "o" * 64


def test_a_stored_conversation_has_the_figures_its_moments_give(engine: Engine) -> None:
    store_conversation(engine, "c1", owner=OWNER, latency_s=0.75, tool_ok=True)
    with session_scope(engine) as session:
        row = get_conversation(session, conversation_id="c1")
        assert row is not None
        f = figures_of(session, row)
    assert f.to_replica_joined_s == pytest.approx(2.0)
    assert f.to_first_utterance_s == pytest.approx(3.0)
    assert [(t.trigger, round(t.latency_s, 3)) for t in f.turns] == [("user", 0.75)]
    assert (f.replica_talk_s, f.user_talk_s) == (pytest.approx(4.0), pytest.approx(2.0))
    assert f.duration_s == pytest.approx(20.0)
    assert [(t.name, round(t.latency_ms or 0), t.status) for t in f.tools] == [
        ("lookup_order", 120, "success")
    ]
    assert f.end_reason == "participant_left_timeout"


def test_insights_sum_a_range_per_day_and_filter_by_persona(engine: Engine) -> None:
    store_conversation(engine, "a1", owner=OWNER, latency_s=0.5, tool_ok=True)
    store_conversation(engine, "a2", owner=OWNER, latency_s=1.5, tool_ok=False)
    store_conversation(
        engine, "b1", owner=OWNER, start=DAY + timedelta(days=1), latency_s=1.0, ended_after_s=None
    )
    store_conversation(engine, "other", owner="x" * 64)  # another browser's
    store_conversation(engine, "sales", owner=OWNER, persona_id="p-sales")
    store_conversation(engine, "old", owner=OWNER, start=DAY - timedelta(days=40))

    query = parse_query("2026-11-20", "2026-11-21", "p-support", today=date(2026, 12, 1))
    with session_scope(engine) as session:
        figures, total = insights_figures(session, owner=OWNER, query=query)
    assert sorted(f.conversation_id for f in figures) == ["a1", "a2", "b1"] and total == 3
    found = insights(figures)
    assert found.conversations == 3 and found.turns == 3
    assert found.median_latency_s == pytest.approx(1.0)
    assert found.p90_latency_s == pytest.approx(1.4)
    assert found.average_duration_s == pytest.approx(20.0)  # the live one has no duration yet
    assert found.end_reasons == {"participant_left_timeout": 2, "still live": 1}
    assert (found.tool_calls, found.tool_success_rate) == (2, pytest.approx(0.5))
    assert [(d.day.isoformat(), d.conversations) for d in found.days] == [
        ("2026-11-20", 2),
        ("2026-11-21", 1),
    ]
    assert found.days[0].median_latency_s == pytest.approx(1.0)

    everyone = parse_query("2026-11-20", "2026-11-21", "all", today=date(2026, 12, 1))
    with session_scope(engine) as session:
        figures, total = insights_figures(session, owner=OWNER, query=everyone)
    assert total == 4 and "sales" in {f.conversation_id for f in figures}


def test_a_rating_given_after_the_end_reaches_the_insights_of_its_page(engine: Engine) -> None:
    for cid in ("v1", "v2", "studio"):
        store_conversation(engine, cid, owner=OWNER)
    with session_scope(engine) as session:
        for cid in ("v1", "v2"):
            row = get_conversation(session, conversation_id=cid)
            assert row is not None
            row.deployment_id = 7
            session.add(row)
    query = parse_query("2026-11-20", "2026-11-20", "all", today=date(2026, 12, 1))

    def read() -> Insights:
        with session_scope(engine) as session:
            return insights(insights_figures(session, owner=OWNER, query=query)[0])

    before = read()  # the ended conversations' figures are kept from here on
    assert (before.rated, before.average_rating) == (0, None)
    assert [(p.page_id, p.conversations, p.rated) for p in before.pages] == [(7, 2, 0)]

    with session_scope(engine) as session:
        assert rate_visit(session, conversation_id="v1", rating=4, comment="Good.")
        assert rate_visit(session, conversation_id="v2", rating=5, comment="")
        # Only a page's conversation takes a rating.
        assert not rate_visit(session, conversation_id="studio", rating=1, comment="")
    after = read()
    assert after.rated == 2 and after.average_rating == pytest.approx(4.5)
    [page] = after.pages
    assert (page.page_id, page.conversations, page.rated) == (7, 2, 2)
    assert page.average_rating == pytest.approx(4.5)
