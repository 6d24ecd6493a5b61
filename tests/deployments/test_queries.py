"""Pages, ratings and guest invitations on the real store (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine

from cvi_app.accounts.passwords import verify_password
from cvi_app.deployments.models import DeploymentForm
from cvi_app.deployments.queries import (
    SlugTaken,
    claim_invite,
    count_live_visits,
    create_invite,
    get_owned_deployment,
    list_deployments,
    rate_visit,
    save_deployment,
)
from cvi_app.store.conversations import create_conversation, update_conversation_status
from cvi_app.store.db import session_scope
from cvi_app.store.models import Conversation, ConversationCreate
from cvi_app.store.types import utc_now


def _save(engine: Engine, owner: str = "team", editing: str | None = None, **fields):
    form = DeploymentForm.model_validate({"slug": "support", "title": "Support", **fields})
    with session_scope(engine) as s:
        return save_deployment(s, form=form, owner=owner, created_by="ada", editing=editing).id


def test_a_page_is_saved_changed_and_kept_to_its_owner(engine: Engine) -> None:
    page_id = _save(engine, access="code", access_code="open sesame")
    _save(engine, editing="support", slug="help", title="Help")
    with session_scope(engine) as s:
        page = get_owned_deployment(s, slug="help", owner="team")
        assert page is not None and page.id == page_id and page.title == "Help"
        assert verify_password("open sesame", page.access_code_hash)
        assert get_owned_deployment(s, slug="help", owner="someone else") is None
        assert list_deployments(s, owner="someone else") == []


def test_every_setting_of_the_form_is_stored(engine: Engine) -> None:
    settings = {
        "intro": "Ask us.",
        "language": "german",
        "captions": False,
        "transparent": True,
        "record": True,
        "max_live": 2,
        "starts_per_hour": 7,
        "max_duration_s": 120,
        "allowed_origins": ["https://shop.example.com"],
    }
    _save(engine, **settings)
    with session_scope(engine) as s:
        page = get_owned_deployment(s, slug="support", owner="team")
    assert page is not None
    stored = {name: getattr(page, name) for name in settings if name != "allowed_origins"}
    assert stored == {k: v for k, v in settings.items() if k != "allowed_origins"}
    assert page.origins() == ["https://shop.example.com"]


def test_two_pages_cannot_share_an_address(engine: Engine) -> None:
    _save(engine)
    with pytest.raises(SlugTaken):
        _save(engine, owner="other")


def test_another_owner_cannot_change_a_page(engine: Engine) -> None:
    _save(engine)
    with pytest.raises(LookupError):
        _save(engine, owner="intruder", editing="support", title="Mine now")


def _visit(engine: Engine, cid: str, page_id: int | None) -> None:
    with session_scope(engine) as s:
        create_conversation(
            s,
            data=ConversationCreate(
                conversation_id=cid,
                mode="sandbox",
                owner_session="team",
                deployment_id=page_id,
                visitor="v" * 64,
            ),
        )


def test_live_visits_are_counted_per_page_and_rated_once_over(engine: Engine) -> None:
    page_id = _save(engine)
    assert page_id is not None
    _visit(engine, "c1", page_id)
    _visit(engine, "c2", page_id)
    _visit(engine, "c3", None)
    with session_scope(engine) as s:
        update_conversation_status(s, conversation_id="c2", status="ended")
    with session_scope(engine) as s:
        assert count_live_visits(s, deployment_id=page_id) == 1
        assert rate_visit(s, conversation_id="c1", rating=5, comment="  Great  ")
        assert rate_visit(s, conversation_id="c1", rating=4, comment="")
        assert not rate_visit(s, conversation_id="c3", rating=5, comment="")  # not a page's
        assert not rate_visit(s, conversation_id="c1", rating=6, comment="")
    with session_scope(engine) as s:
        row = s.get(Conversation, "c1")
        assert row is not None and (row.rating, row.rating_comment) == (4, None)


def test_an_invitation_admits_the_first_browser_only_until_it_expires(engine: Engine) -> None:
    with session_scope(engine) as s:
        create_invite(s, invite_id="i1", conversation_id="c1", created_by="ada", valid_for_s=60)
    with session_scope(engine) as s:
        assert claim_invite(s, invite_id="i1", conversation_id="c1", browser="b1") is None
    with session_scope(engine) as s:
        assert claim_invite(s, invite_id="i1", conversation_id="c1", browser="b1") is None
        assert "already joined" in (
            claim_invite(s, invite_id="i1", conversation_id="c1", browser="b2") or ""
        )
        assert "not valid" in (
            claim_invite(s, invite_id="i1", conversation_id="c2", browser="b1") or ""
        )
        later = utc_now() + timedelta(seconds=61)
        assert "expired" in (
            claim_invite(s, invite_id="i1", conversation_id="c1", browser="b1", now=later) or ""
        )
