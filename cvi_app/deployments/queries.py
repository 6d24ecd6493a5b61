"""Reading and writing public pages, their visitors' conversations, and guest invitations.

Each function takes the caller's SQLModel session (run it with `store.db.run_in_transaction`).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from cvi_app.accounts.passwords import hash_password
from cvi_app.deployments.models import Deployment, DeploymentForm, GuestInviteRecord
from cvi_app.store.conversations import is_owner
from cvi_app.store.models import Conversation
from cvi_app.store.types import utc_now

__all__ = [
    "SlugTaken",
    "claim_invite",
    "count_live_visits",
    "create_invite",
    "deployment_names",
    "get_deployment",
    "get_owned_deployment",
    "list_deployments",
    "rate_visit",
    "save_deployment",
]

MAX_COMMENT = 1_000


class SlugTaken(Exception):
    """Another page already has this address."""


def get_deployment(session: Session, *, slug: str) -> Deployment | None:
    """The page at `/p/<slug>`, if there is one."""
    return session.exec(select(Deployment).where(col(Deployment.slug) == slug)).first()


def get_owned_deployment(session: Session, *, slug: str, owner: str) -> Deployment | None:
    """The page at `slug`, when `owner` may manage it."""
    deployment = get_deployment(session, slug=slug)
    if deployment is None or not is_owner(deployment.owner_session, owner):
        return None
    return deployment


def list_deployments(session: Session, *, owner: str, limit: int = 200) -> list[Deployment]:
    """The pages `owner` manages, newest first."""
    if not owner:
        return []
    rows = session.exec(
        select(Deployment)
        .where(col(Deployment.owner_session) == owner)
        .order_by(col(Deployment.created_at).desc())
        .limit(limit)
    )
    return list(rows)


def deployment_names(session: Session, ids: list[int]) -> dict[int, str]:
    """The titles of the pages `ids` (for tables of conversations)."""
    if not ids:
        return {}
    rows = session.exec(
        select(Deployment.id, Deployment.title).where(col(Deployment.id).in_(set(ids)))
    )
    return {row[0]: row[1] for row in rows if row[0] is not None}


def save_deployment(
    session: Session,
    *,
    form: DeploymentForm,
    owner: str,
    created_by: str,
    editing: str | None = None,
) -> Deployment:
    """Create a page, or update the one at `editing` (its current slug).

    Raises:
        SlugTaken: Another page has the form's slug.
        LookupError: `editing` names no page this owner manages.
    """
    if editing is None:
        deployment = Deployment(slug=form.slug, title=form.title, owner_session=owner)
        deployment.created_by = created_by
    else:
        found = get_owned_deployment(session, slug=editing, owner=owner)
        if found is None:
            raise LookupError(editing)
        deployment = found
    if form.slug != deployment.slug or editing is None:
        other = get_deployment(session, slug=form.slug)
        if other is not None and other.id != deployment.id:
            raise SlugTaken(form.slug)
    # Every setting is stored as given, but the two that are kept in another shape.
    for name in DeploymentForm.model_fields.keys() - {"access_code", "allowed_origins"}:
        setattr(deployment, name, getattr(form, name))
    deployment.allowed_origins = json.dumps(form.allowed_origins)
    if form.access_code:
        deployment.access_code_hash = hash_password(form.access_code)
    deployment.updated_at = utc_now()
    session.add(deployment)
    session.flush()
    return deployment


def count_live_visits(session: Session, *, deployment_id: int) -> int:
    """How many of a page's conversations are live."""
    query = select(func.count()).where(
        col(Conversation.deployment_id) == deployment_id, col(Conversation.status) == "active"
    )
    return int(session.exec(query).one())


def rate_visit(session: Session, *, conversation_id: str, rating: int, comment: str) -> bool:
    """Store a visitor's rating of a page's conversation (a second rating replaces it).

    The caller passes the conversation the visitor's own tab started (kept on the server).

    Returns:
        Whether it was stored.
    """
    if not 1 <= rating <= 5:
        return False
    row = session.get(Conversation, conversation_id)
    if row is None or row.deployment_id is None:
        return False
    row.rating = rating
    row.rating_comment = comment.strip()[:MAX_COMMENT] or None
    session.add(row)
    return True


def create_invite(
    session: Session, *, invite_id: str, conversation_id: str, created_by: str, valid_for_s: float
) -> GuestInviteRecord:
    """Record a new guest invitation into a conversation's call."""
    record = GuestInviteRecord(
        invite_id=invite_id,
        conversation_id=conversation_id,
        created_by=created_by,
        expires_at=utc_now() + timedelta(seconds=valid_for_s),
    )
    session.add(record)
    return record


def claim_invite(
    session: Session,
    *,
    invite_id: str,
    conversation_id: str,
    browser: str,
    now: datetime | None = None,
) -> str | None:
    """Let `browser` use an invitation: the first browser to open it, and only that one.

    Returns:
        None when it may join; else why not, as a sentence for the guest.
    """
    record = session.get(GuestInviteRecord, invite_id)
    now = now or utc_now()
    if record is None or record.conversation_id != conversation_id or not browser:
        return "This invitation is not valid. Ask whoever sent it for a new one."
    if record.expires_at <= now:
        return "This invitation has expired. Ask whoever sent it for a new one."
    if record.claimed_by is None:
        # Conditional, so two browsers opening it at once cannot both take it.
        taken = session.exec(
            update(GuestInviteRecord)
            .where(
                col(GuestInviteRecord.invite_id) == invite_id,
                col(GuestInviteRecord.claimed_by).is_(None),
            )
            .values(claimed_by=browser, claimed_at=now)
        )
        if taken.rowcount == 1:
            return None
        session.refresh(record)
    if record.claimed_by != browser:
        return "Someone has already joined with this invitation. Ask for one of your own."
    return None
