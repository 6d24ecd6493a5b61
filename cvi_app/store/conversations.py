"""Conversation queries: create, look up, search a page at a time, record the end.

Every function takes the caller's session and leaves the commit to the caller.
"""

from __future__ import annotations

import hmac
from datetime import datetime
from typing import Literal

from sqlalchemy import func, or_, update
from sqlmodel import Session, SQLModel, col, select

from cvi_app.store._sql import check_limit
from cvi_app.store.models import Conversation, ConversationCreate, ConversationStatus
from cvi_app.store.types import utc_now

__all__ = [
    "ConversationPage",
    "EndReporter",
    "create_conversation",
    "get_conversation",
    "get_owned_conversation",
    "is_owner",
    "list_active_conversations",
    "list_conversations_started_between",
    "search_conversations",
    "update_conversation_status",
]

EndReporter = Literal["app", "webhook"]
"""Who reports an end: the app itself (its session, or the API it asked), or a webhook."""


class ConversationPage(SQLModel):
    """One page of a conversation search, newest first, and how many match in all."""

    items: list[Conversation]
    total: int
    page: int
    limit: int


def create_conversation(
    session: Session, *, data: ConversationCreate, created_at: datetime | None = None
) -> Conversation:
    """Add a conversation (flushed, not committed: a duplicate id raises `IntegrityError`).

    Args:
        session: The caller's session.
        data: What is known about the conversation.
        created_at: When it was created (default: now).

    Returns:
        The new row.
    """
    row = Conversation.model_validate(data, update={"created_at": created_at or utc_now()})
    session.add(row)
    session.flush()
    return row


def get_conversation(session: Session, *, conversation_id: str) -> Conversation | None:
    """The conversation with this id, or None."""
    return session.get(Conversation, conversation_id)


def is_owner(stored_owner: str | None, owner: str | None) -> bool:
    """Whether `owner` (a browser's owner identity) is the conversation's `stored_owner`.

    The one owner check: pages, exports and sessions all ask it. Blank on either side is
    never a match, and the comparison takes the same time wherever the two differ.
    """
    if not owner or not stored_owner:
        return False
    return hmac.compare_digest(stored_owner.encode(), owner.encode())


def get_owned_conversation(
    session: Session, *, conversation_id: str, owner: str | None
) -> Conversation | None:
    """The conversation when `owner` (the browser's owner identity) created it, else None.

    Unknown conversations and other browsers' conversations look the same to the caller.
    """
    row = get_conversation(session, conversation_id=conversation_id)
    if row is None or not is_owner(row.owner_session, owner):
        return None
    return row


def search_conversations(
    session: Session,
    *,
    query: str | None = None,
    status: ConversationStatus | None = None,
    owner_session: str | None = None,
    page: int = 1,
    limit: int = 20,
) -> ConversationPage:
    """Conversations matching a search, newest first, one numbered page at a time.

    Args:
        session: The caller's session.
        query: Text the name or the conversation id contains (case-insensitive).
        status: Only `active` or only `ended` conversations.
        owner_session: Only conversations created by this browser session (a blank one owns
            nothing, as `is_owner` says: the page is empty).
        page: Page number, from 1.
        limit: Page size (1..1000).

    Returns:
        The page and the total number of matches.
    """
    check_limit(limit)
    if page < 1:
        raise ValueError(f"page must be 1 or more, got {page}")
    conditions = []
    if query and query.strip():
        needle = query.strip().lower()
        conditions.append(
            or_(
                func.lower(Conversation.name).contains(needle, autoescape=True),
                func.lower(Conversation.conversation_id).contains(needle, autoescape=True),
            )
        )
    if status is not None:
        conditions.append(col(Conversation.status) == status)
    if owner_session is not None:
        if not owner_session:
            return ConversationPage(items=[], total=0, page=page, limit=limit)
        conditions.append(col(Conversation.owner_session) == owner_session)
    total = session.exec(select(func.count()).select_from(Conversation).where(*conditions)).one()
    items = session.exec(
        select(Conversation)
        .where(*conditions)
        .order_by(col(Conversation.created_at).desc(), col(Conversation.conversation_id).desc())
        .offset((page - 1) * limit)
        .limit(limit)
    ).all()
    return ConversationPage(items=list(items), total=total, page=page, limit=limit)


def list_active_conversations(
    session: Session,
    *,
    mode: str | None = None,
    created_before: datetime | None = None,
    after_id: str | None = None,
    owner_session: str | None = None,
    limit: int = 100,
) -> list[Conversation]:
    """Conversations recorded `active`, by id, one page at a time (for the start-up reconcile).

    Paging is by id rather than by page number, so rows the caller ends meanwhile (and that
    leave the `active` set) do not make it skip others.

    Args:
        session: The caller's session.
        mode: Only conversations of this mode (`sandbox` or `tavus`).
        created_before: Only conversations created before this moment.
        after_id: Only conversations whose id sorts after this one (the previous page's last).
        owner_session: Only conversations this browser created (a blank one owns nothing).
        limit: Page size (1..1000).

    Returns:
        Up to `limit` conversations, ascending by id.
    """
    check_limit(limit)
    if owner_session is not None and not owner_session:
        return []
    conditions = [col(Conversation.status) == "active"]
    if owner_session is not None:
        conditions.append(col(Conversation.owner_session) == owner_session)
    if mode is not None:
        conditions.append(col(Conversation.mode) == mode)
    if created_before is not None:
        conditions.append(col(Conversation.created_at) < created_before)
    if after_id is not None:
        conditions.append(col(Conversation.conversation_id) > after_id)
    rows = session.exec(
        select(Conversation)
        .where(*conditions)
        .order_by(col(Conversation.conversation_id))
        .limit(limit)
    ).all()
    return list(rows)


def update_conversation_status(
    session: Session,
    *,
    conversation_id: str,
    status: ConversationStatus,
    shutdown_reason: str | None = None,
    at: datetime | None = None,
    reported_by: EndReporter = "app",
) -> bool:
    """Record that a conversation is active again or has ended.

    The end is reported more than once (in the room, by the app and by webhook, sometimes
    twice each). The first end time is kept. The reason follows who reported it: the app's own
    report (its session saw the end, or the API confirmed it) replaces a reason a webhook gave,
    since a webhook's word is unchecked; a webhook's reason only fills in a missing one.

    Args:
        session: The caller's session.
        conversation_id: The conversation.
        status: `ended` or `active`.
        shutdown_reason: Why it ended (`system.shutdown`'s `shutdown_reason`).
        at: When it ended (default: now).
        reported_by: `app` (the session, the app's own end, the API) or `webhook`.

    Returns:
        False when no such conversation is stored.
    """
    stmt = update(Conversation).where(col(Conversation.conversation_id) == conversation_id)
    if status == "ended":
        reason: object = func.coalesce(Conversation.shutdown_reason, shutdown_reason)
        if reported_by == "app" and shutdown_reason is not None:
            reason = shutdown_reason
        stmt = stmt.values(
            status="ended",
            ended_at=func.coalesce(Conversation.ended_at, at or utc_now()),
            shutdown_reason=reason,
        )
    else:
        stmt = stmt.values(status="active", ended_at=None, shutdown_reason=None)
    result = session.execute(stmt)
    return bool(getattr(result, "rowcount", 0))


def list_conversations_started_between(
    session: Session,
    *,
    owner_session: str,
    since: datetime,
    until: datetime,
    persona_id: str | None = None,
    limit: int = 500,
) -> ConversationPage:
    """An owner's conversations started in `[since, until)`, newest first (for insights).

    Returns:
        At most `limit` of them, and how many there are in all.
    """
    check_limit(limit)
    if not owner_session:
        return ConversationPage(items=[], total=0, page=1, limit=limit)
    conditions = [
        col(Conversation.owner_session) == owner_session,
        col(Conversation.created_at) >= since,
        col(Conversation.created_at) < until,
    ]
    if persona_id:
        conditions.append(col(Conversation.persona_id) == persona_id)
    total = session.exec(select(func.count()).select_from(Conversation).where(*conditions)).one()
    rows = session.exec(
        select(Conversation)
        .where(*conditions)
        .order_by(col(Conversation.created_at).desc())
        .limit(limit)
    ).all()
    return ConversationPage(items=list(rows), total=int(total), page=1, limit=limit)
