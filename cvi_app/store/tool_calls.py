"""Tool-call queries: record a call once, record its result once, list them.

Every function takes the caller's session and leaves the commit to the caller.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from sqlalchemy import update
from sqlmodel import Session, col, select

from cvi_app.store._sql import check_limit, insert_ignoring_conflicts
from cvi_app.store.models import ToolCall, ToolCallCreate
from cvi_app.store.types import utc_now

__all__ = ["finish_tool_call", "get_tool_call", "list_tool_calls", "record_tool_call"]


def record_tool_call(session: Session, *, call: ToolCallCreate) -> bool:
    """Store a tool call as pending, unless one with its `tool_call_id` is already stored.

    Args:
        session: The caller's session.
        call: The call.

    Returns:
        True when the call was new; False for a repeat (the stored call is left as it was).
    """
    stmt = insert_ignoring_conflicts(
        session, ToolCall, unique=["conversation_id", "tool_call_id"]
    ).returning(col(ToolCall.id))
    row = {**call.model_dump(), "status": "pending"}
    return session.execute(stmt, [row]).first() is not None


def finish_tool_call(
    session: Session,
    *,
    conversation_id: str,
    tool_call_id: str,
    result: str,
    status: Literal["success", "error"],
    finished_at: datetime | None = None,
) -> ToolCall | None:
    """Record a tool call's result once; a second result for the same call changes nothing.

    Args:
        session: The caller's session.
        conversation_id: The conversation.
        tool_call_id: The call.
        result: The output sent back to the replica.
        status: `success` or `error`.
        finished_at: When it finished (default: now); the latency is measured from `started_at`.

    Returns:
        The call as stored afterwards, or None if no such call is stored.
    """
    call = get_tool_call(session, conversation_id=conversation_id, tool_call_id=tool_call_id)
    if call is None or call.status != "pending":
        return call
    finished = finished_at or utc_now()
    latency_ms = max(0.0, (finished - call.started_at).total_seconds() * 1000)
    session.execute(
        update(ToolCall)
        .where(col(ToolCall.id) == call.id, col(ToolCall.status) == "pending")
        .values(result=result, status=status, finished_at=finished, latency_ms=latency_ms)
    )
    session.refresh(call)
    return call


def get_tool_call(session: Session, *, conversation_id: str, tool_call_id: str) -> ToolCall | None:
    """The tool call with this id in this conversation, or None."""
    return session.exec(
        select(ToolCall).where(
            ToolCall.conversation_id == conversation_id, ToolCall.tool_call_id == tool_call_id
        )
    ).first()


def list_tool_calls(
    session: Session, *, conversation_id: str, after_id: int | None = None, limit: int = 100
) -> list[ToolCall]:
    """A conversation's tool calls in the order they were recorded, paged by row id."""
    check_limit(limit)
    query = select(ToolCall).where(ToolCall.conversation_id == conversation_id)
    if after_id is not None:
        query = query.where(col(ToolCall.id) > after_id)
    return list(session.exec(query.order_by(col(ToolCall.id)).limit(limit)).all())
