"""What the figures need, read from the store (bounded), and ended conversations' figures kept.

A conversation that has ended never changes, so its figures are computed once per process
and kept (the most recent `CACHE_SIZE`); a live one is computed again each time.
"""

from __future__ import annotations

from datetime import datetime

from cachetools import LRUCache
from sqlmodel import Session

from cvi_app.analytics.figures import (
    JOINED,
    NEEDED_TYPES,
    ConversationFigures,
    Moment,
    ToolFigure,
    conversation_figures,
)
from cvi_app.analytics.ranges import InsightsQuery
from cvi_app.store.conversations import list_conversations_started_between
from cvi_app.store.events import list_event_moments
from cvi_app.store.models import Conversation
from cvi_app.store.tool_calls import list_tool_calls
from cvi_app.store.webhooks import list_webhook_deliveries

__all__ = [
    "CACHE_SIZE",
    "MAX_INSIGHT_CONVERSATIONS",
    "MAX_MOMENTS",
    "MAX_TOOL_CALLS",
    "figures_of",
    "forget_figures",
    "insights_figures",
]

MAX_MOMENTS = 20_000
"""The most stored moments one conversation's figures read (a very long call is cut there)."""
MAX_TOOL_CALLS = 1000
CACHE_SIZE = 5000

_ended: LRUCache[str, ConversationFigures] = LRUCache(maxsize=CACHE_SIZE)


def forget_figures() -> None:
    """Drop the kept figures of ended conversations (benchmarks time the cold read)."""
    _ended.clear()


def figures_of(session: Session, row: Conversation) -> ConversationFigures:
    """The figures of one stored conversation (from the cache once it has ended)."""
    cid = row.conversation_id
    if row.status == "ended" and cid in _ended:
        return _with_visit(_ended[cid], row)
    moments: list[Moment] = []
    after: int | None = None
    while len(moments) < MAX_MOMENTS:
        page = list_event_moments(
            session, conversation_id=cid, event_types=NEEDED_TYPES, after_id=after, limit=1000
        )
        moments += [Moment(event_type=t, source=s, role=r, at=at) for _i, t, s, r, at in page]
        if len(page) < 1000:
            break
        after = page[-1][0]
    joined = [
        Moment(event_type=d.event_type, source="webhook", at=d.received_at)
        for d in list_webhook_deliveries(session, conversation_id=cid, limit=100)
        if d.event_type == JOINED
    ]
    moments = sorted(joined[:1] + moments, key=lambda m: m.at)
    tools = [
        ToolFigure(
            name=call.name,
            at_s=_since(row.created_at, call.started_at),
            latency_ms=call.latency_ms,
            status=call.status,
        )
        for call in list_tool_calls(session, conversation_id=cid, limit=MAX_TOOL_CALLS)
    ]
    figures = conversation_figures(
        conversation_id=cid,
        started_at=row.created_at,
        ended_at=row.ended_at,
        end_reason=row.shutdown_reason,
        moments=moments[:MAX_MOMENTS],
        tools=tools,
        persona_id=row.persona_id,
    )
    if row.status == "ended":
        _ended[cid] = figures
    return _with_visit(figures, row)


def _with_visit(figures: ConversationFigures, row: Conversation) -> ConversationFigures:
    """The figures with the row's page and rating (a visitor may rate after they were kept)."""
    if row.deployment_id is None and row.rating is None:
        return figures
    return figures.model_copy(update={"page_id": row.deployment_id, "rating": row.rating})


def _since(start: datetime, at: datetime) -> float:
    return max(0.0, (at - start).total_seconds())


MAX_INSIGHT_CONVERSATIONS = 500
"""The most conversations one insights request reads (the newest of the range)."""


def insights_figures(
    session: Session, *, owner: str, query: InsightsQuery
) -> tuple[list[ConversationFigures], int]:
    """The figures of the owner's conversations in the query's range, and how many it holds.

    The newest `MAX_INSIGHT_CONVERSATIONS` of them are read.
    """
    page = list_conversations_started_between(
        session,
        owner_session=owner,
        since=query.since,
        until=query.until,
        persona_id=query.persona_id,
        limit=MAX_INSIGHT_CONVERSATIONS,
    )
    return [figures_of(session, row) for row in page.items], page.total
