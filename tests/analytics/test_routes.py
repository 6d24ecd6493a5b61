"""The insights CSV over real HTTP: the team's figures for its members, nothing for others."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from starlette.applications import Starlette

from cvi_app.access.caller import TEAM_OWNER
from cvi_app.access.owner_cookie import OwnerCookies
from cvi_app.accounts import sessions
from cvi_app.accounts.queries import create_account, list_audit, open_sign_in
from cvi_app.accounts.sign_in_cookie import SignInCookies, token_hash
from cvi_app.analytics.routes import INSIGHTS_CSV_PATH, insights_routes
from cvi_app.config import get_settings
from cvi_app.store.db import get_engine, session_scope
from tests.analytics.stored import store_conversation
from tests.support.servers import serve_asgi

OWNERS = OwnerCookies(key=b"k" * 32)
SIGN_INS = SignInCookies()


@pytest.fixture
def team_server(app_database: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("CVI_ACCOUNTS", "1")
    get_settings.cache_clear()
    sessions.forget_all()
    routes = insights_routes(cookies=OWNERS, sign_ins=SIGN_INS)
    with serve_asgi(Starlette(routes=routes)) as url:
        yield url
    sessions.forget_all()


def _signed_in_cookie(role: str) -> dict[str, str]:
    engine = get_engine()
    token = SIGN_INS.mint()
    with session_scope(engine) as session:
        account = create_account(
            session,
            email=f"{role}@example.com",
            password="a long passphrase",
            role=role,  # type: ignore[arg-type]
        )
        assert account.id is not None
        open_sign_in(
            session,
            account_id=account.id,
            token_hash=token_hash(token),
            lifetime=timedelta(hours=1),
        )
    return {SIGN_INS.name: token}


def test_a_viewer_downloads_the_teams_figures_and_the_download_is_audited(team_server: str) -> None:
    store_conversation(get_engine(), "team-1", owner=TEAM_OWNER)
    store_conversation(get_engine(), "mine", owner="b" * 64)
    cookies = _signed_in_cookie("viewer")
    response = httpx.get(
        f"{team_server}{INSIGHTS_CSV_PATH}",
        params={"from": "2026-11-01", "to": "2026-11-30"},
        cookies=cookies,
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [r["conversation_id"] for r in rows] == ["team-1"]
    with session_scope(get_engine()) as session:
        assert [e.action for e in list_audit(session)] == ["exported insights"]


def test_a_signed_out_browser_gets_nothing_and_a_bad_range_is_named(team_server: str) -> None:
    store_conversation(get_engine(), "team-1", owner=TEAM_OWNER)
    refused = httpx.get(f"{team_server}{INSIGHTS_CSV_PATH}")
    assert refused.status_code == 403 and "team-1" not in refused.text
    bad = httpx.get(
        f"{team_server}{INSIGHTS_CSV_PATH}",
        params={"from": "2026-12-02", "to": "2026-12-01"},
        cookies=_signed_in_cookie("operator"),
    )
    assert bad.status_code == 400
    assert bad.text == "The first day must be on or before the last day."
