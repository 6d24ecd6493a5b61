"""Who may do what: the browser without accounts, each role with them, nobody signed out."""

from __future__ import annotations

import pytest

from cvi_app.access.caller import TEAM_OWNER, Caller, Permission, SignedIn
from cvi_app.access.page_rules import page_refusal

BROWSER = "b" * 64


def _as(role: str | None) -> Caller:
    account = SignedIn(account_id=1, email="ada@example.com", role=role) if role else None  # type: ignore[arg-type]
    return Caller(browser=BROWSER, accounts_on=True, signed_in=account)


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        ("admin", {"read", "drive", "admin"}),
        ("operator", {"read", "drive"}),
        ("viewer", {"read"}),
        (None, set()),
    ],
)
def test_with_accounts_each_role_may_do_what_the_table_says(
    role: str | None, allowed: set[Permission]
) -> None:
    caller = _as(role)
    for permission in ("read", "drive", "admin"):
        assert caller.may(permission) is (permission in allowed)  # type: ignore[arg-type]
        expected = TEAM_OWNER if permission in allowed else ""
        assert caller.owner_for(permission) == expected  # type: ignore[arg-type]


def test_without_accounts_a_browser_uses_its_own_conversations_and_manages_nothing() -> None:
    caller = Caller(browser=BROWSER, accounts_on=False)
    assert caller.owner_for("read") == caller.owner_for("drive") == BROWSER
    assert caller.owner_for("admin") == ""
    assert not caller.needs_sign_in
    assert Caller(browser="", accounts_on=False).owner_for("drive") == ""


def test_a_team_owner_is_never_a_browser_identity() -> None:
    assert len(TEAM_OWNER) != 64


@pytest.mark.parametrize(
    ("route", "role", "sent_to"),
    [
        ("/index", None, "/sign-in"),
        ("/history", None, "/sign-in"),
        ("/", "viewer", "/history"),
        ("/console", "viewer", "/history"),
        ("/history/[conversation_id]", "viewer", None),
        ("/accounts", "operator", "/history"),
        ("/accounts", "admin", None),
        ("/sign-in", None, None),
    ],
)
def test_pages_send_people_where_their_role_can_go(
    route: str, role: str | None, sent_to: str | None
) -> None:
    assert page_refusal(route, _as(role)) == sent_to


def test_without_accounts_every_studio_page_opens() -> None:
    caller = Caller(browser=BROWSER, accounts_on=False)
    assert page_refusal("/", caller) is None
    assert page_refusal("/insights", caller) is None
    assert page_refusal("/index", Caller(browser="", accounts_on=False)) is None
