"""Sign-in, roles and refusals in Chromium, on an app with accounts switched on."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from cvi_app.config import SANDBOX_API_PREFIX
from tests.browser.axe import assert_accessible
from tests.browser.pages import (
    LONG,
    answer_one_turn_and_end,
    at_page,
    create_admin,
    sign_in,
    start_conversation,
)
from tests.support.app_server import SECRET_MARKERS, AppServer, private_web_dir, start_app_server

ADMIN = "admin@example.com"
OPERATOR = "operator@example.com"
VIEWER = "viewer@example.com"
PASSWORD = "a long team passphrase"


@pytest.fixture(scope="module")
def team_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    """The app in sandbox mode with accounts on, and its first admin made from the shell."""
    workdir = tmp_path_factory.mktemp("team")
    web = private_web_dir(workdir / "web")
    if web is None:
        pytest.fail(".web/ is not prepared: run the app once (make test does)")
    env = {
        "CVI_ACCOUNTS": "true",
        "REFLEX_WEB_WORKDIR": str(web),
        "CVI_LIVE_LIMIT_TEAM": "50",
        # The tests sign the same accounts in many times; the limits are tested over HTTP.
        "CVI_SIGN_IN_LIMIT_ACCOUNT": "1000/minute",
        "CVI_SIGN_IN_LIMIT_ADDRESS": "1000/minute",
    }
    with start_app_server(workdir / "app", extra_env=env) as server:
        create_admin(server, ADMIN, PASSWORD)
        yield server


def _signed_in(browser: Browser, server: AppServer, email: str) -> tuple[BrowserContext, Page]:
    context = browser.new_context()
    page = context.new_page()
    sign_in(page, f"{server.url}/sign-in", email, PASSWORD)
    expect(page.locator("#account-menu")).to_contain_text(email, timeout=LONG)
    return context, page


def _add_account(page: Page, email: str, role: str) -> None:
    page.get_by_label("New account's email").fill(email)
    page.get_by_label("New account's password").fill(PASSWORD)
    page.get_by_role("combobox", name="New account's role").click()
    page.get_by_role("option", name=role, exact=True).click()
    page.get_by_role("button", name="Add account").click()
    expect(page.locator(f"[data-account='{email}']")).to_be_visible(timeout=LONG)


def test_a_signed_out_browser_is_sent_to_sign_in_and_back_to_its_page(
    page: Page, team_app: AppServer
) -> None:
    page.goto(f"{team_app.url}/history")
    at_page(page, "/sign-in", "next=/history")
    expect(page.get_by_role("button", name="Start conversation")).to_have_count(0)
    assert_accessible(page, where="the sign-in page")

    sign_in(page, page.url, ADMIN, "not the password")
    expect(page.get_by_role("alert")).to_have_text(
        "That email and password do not match an account. Check them and try again.",
        timeout=LONG,
    )
    cookies = {c["name"]: c for c in page.context.cookies()}
    assert "cvi_signin" not in cookies

    page.get_by_label("Email").fill(ADMIN)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    at_page(page, "/history")
    expect(page.locator("#account-menu")).to_contain_text(f"{ADMIN} (admin)", timeout=LONG)
    signin = next(c for c in page.context.cookies() if c["name"] == "cvi_signin")
    assert signin["httpOnly"] and signin["sameSite"] == "Strict"
    assert page.evaluate("document.cookie").find("cvi_signin") == -1

    page.get_by_role("button", name="Sign out").click()
    at_page(page, "/sign-in", "signed_out=1")
    expect(page.get_by_text("You are signed out.")).to_be_visible()
    page.goto(team_app.url)
    at_page(page, "/sign-in", "next=/")


def test_an_admin_adds_accounts_and_each_role_gets_what_it_may(
    browser: Browser, team_app: AppServer
) -> None:
    admin, admin_page = _signed_in(browser, team_app, ADMIN)
    operator = viewer = None
    try:
        admin_page.goto(f"{team_app.url}/accounts")
        expect(admin_page.locator(f"[data-account='{ADMIN}']")).to_be_visible(timeout=LONG)
        _add_account(admin_page, OPERATOR, "operator")
        _add_account(admin_page, VIEWER, "viewer")
        assert_accessible(admin_page, where="the accounts page")

        # The operator starts a conversation for the team and steers it.
        operator, op_page = _signed_in(browser, team_app, OPERATOR)
        op_page.goto(team_app.url)
        op_page.get_by_role("button", name="Start conversation").click()
        op_page.wait_for_url("**/room/**", timeout=LONG)
        expect(op_page.locator("#room-status")).to_have_attribute(
            "data-status", "live", timeout=LONG
        )
        cid = op_page.url.rstrip("/").rsplit("/", 1)[-1]
        op_page.get_by_role("textbox", name="Message").fill("Welcome to the team")
        op_page.get_by_role("button", name="Echo", exact=True).click()
        expect(
            op_page.get_by_role("log", name="Transcript").get_by_text("Welcome to the team")
        ).to_be_visible(timeout=LONG)
        # Every tab on the conversation is told who steered it.
        expect(
            op_page.get_by_role("log", name="Events").get_by_text(
                f"{OPERATOR} made the replica say something"
            )
        ).to_be_visible(timeout=LONG)
        # Watching from the console is told to the room and kept in the audit log.
        watcher = op_page.context.new_page()
        watcher.goto(f"{team_app.url}/console/{cid}")
        expect(watcher.locator("#room-status")).to_have_attribute(
            "data-status", "live", timeout=LONG
        )
        expect(
            op_page.get_by_role("log", name="Events").get_by_text(f"{OPERATOR} is watching")
        ).to_be_visible(timeout=LONG)
        watcher.close()
        # Operators do not manage accounts.
        op_page.goto(f"{team_app.url}/accounts")
        at_page(op_page, "/history")

        # The viewer reads the team's conversation but cannot start or steer one.
        viewer, view_page = _signed_in(browser, team_app, VIEWER)
        view_page.goto(team_app.url)
        at_page(view_page, "/history")
        expect(view_page.locator(f"[data-conversation='{cid}']")).to_be_visible(timeout=LONG)
        view_page.goto(f"{team_app.url}/room/{cid}")
        at_page(view_page, "/history")
        view_page.goto(f"{team_app.url}/console/{cid}")
        at_page(view_page, "/history")
        view_page.goto(f"{team_app.url}/history/{cid}")
        expect(view_page.locator("#conversation-status")).to_be_visible(timeout=LONG)
        export = view_page.context.request.get(
            f"{team_app.url}/api/conversations/{cid}/export.json"
        )
        assert export.status == 200 and "Welcome to the team" in export.text()
        # A browser with no account reads nothing, even with the conversation's id.
        assert httpx.get(f"{team_app.url}/api/conversations/{cid}/export.json").status_code == 404

        # The admin reads who did what.
        admin_page.goto(f"{team_app.url}/audit")
        log = admin_page.get_by_role("region", name="Audit log")
        expect(log).to_contain_text("started", timeout=LONG)
        for actor, action in [
            (OPERATOR, "echo"),
            (OPERATOR, "started"),
            (OPERATOR, "watched"),
            (VIEWER, "exported"),
        ]:
            expect(log.locator("tr", has_text=actor).filter(has_text=action).first).to_be_visible()
        expect(log).to_contain_text("created account")
        assert_accessible(admin_page, where="the audit log")
        # From the conversation's page, only its own entries.
        admin_page.goto(f"{team_app.url}/history/{cid}")
        admin_page.get_by_role("link", name="Who did what to this conversation").click()
        at_page(admin_page, "/audit", f"conversation={cid}")
        expect(log.locator("tr", has_text="echo").first).to_be_visible(timeout=LONG)
        expect(log.locator("tr", has_text="signed in")).to_have_count(0)
        expect(log.locator("tr", has_text="created account")).to_have_count(0)
        _end(team_app, cid)
    finally:
        for context in (admin, operator, viewer):
            if context is not None:
                context.close()


def test_a_password_reset_signs_the_account_out_at_once(
    browser: Browser, team_app: AppServer
) -> None:
    admin, admin_page = _signed_in(browser, team_app, ADMIN)
    victim = "reset@example.com"
    try:
        admin_page.goto(f"{team_app.url}/accounts")
        _add_account(admin_page, victim, "viewer")
        other, other_page = _signed_in(browser, team_app, victim)
        admin_page.get_by_role("button", name=f"Reset password of {victim}").click()
        admin_page.get_by_label(f"New password for {victim}").fill("a different passphrase")
        admin_page.get_by_role("button", name="Save password").click()
        expect(admin_page.get_by_text("it is signed out everywhere")).to_be_visible(timeout=LONG)
        other_page.goto(f"{team_app.url}/history")
        at_page(other_page, "/sign-in", "next=/history")
        sign_in(other_page, other_page.url, victim, "a different passphrase")
        at_page(other_page, "/history")
        other.close()
    finally:
        admin.close()


@pytest.mark.parametrize("width", [390, 1280])
def test_the_sign_in_page_works_on_a_phone_and_a_desktop(
    browser: Browser, team_app: AppServer, width: int
) -> None:
    context = browser.new_context(viewport={"width": width, "height": 800})
    try:
        page = context.new_page()
        page.goto(f"{team_app.url}/sign-in")
        expect(page.get_by_label("Email")).to_be_visible(timeout=LONG)
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.keyboard.press("Tab")  # the skip link
        page.keyboard.press("Tab")
        for _ in range(6):
            if page.evaluate("document.activeElement.name") == "email":
                break
            page.keyboard.press("Tab")
        page.keyboard.type(ADMIN)
        page.keyboard.press("Tab")
        page.keyboard.type(PASSWORD)
        page.keyboard.press("Enter")
        at_page(page, "")
        expect(page.get_by_role("button", name="Start conversation")).to_be_visible(timeout=LONG)
        assert_accessible(page, where=f"the home page signed in at {width} px")
    finally:
        context.close()


def _end(server: AppServer, conversation_id: str) -> None:
    httpx.post(
        f"{server.url}{SANDBOX_API_PREFIX}/conversations/{conversation_id}/end",
        headers={"x-api-key": SECRET_MARKERS["CVI_SANDBOX_API_KEY"]},
        timeout=10,
    ).raise_for_status()


def test_a_newcomers_tour_admin_three_conversations_console_analytics_insights(
    browser: Browser, team_app: AppServer
) -> None:
    """The issue's "done when": sign in, start three, watch and steer one, read its figures."""
    context, page = _signed_in(browser, team_app, ADMIN)
    ids: list[str] = []
    try:
        # Each typed once the page is ready (its state would otherwise overwrite the typing).
        for n in range(3):
            ids.append(start_conversation(page, team_app.url, name=f"Tour {n}"))
        page.get_by_role("link", name="Console").click()
        table = page.get_by_role("region", name="Live conversations")
        for cid in ids:
            expect(table.locator(f"tr[data-conversation='{cid}']")).to_be_visible(timeout=LONG)
        table.get_by_role("link", name="Tour 1").click()
        expect(page.get_by_role("heading", name="Watching: Tour 1")).to_be_visible(timeout=LONG)
        expect(page.locator("#room-status")).to_have_attribute("data-status", "live", timeout=LONG)
        answer_one_turn_and_end(page, "What is my name?")

        page.goto(f"{team_app.url}/history/{ids[1]}")
        analytics = page.get_by_role("region", name="Analytics")
        expect(analytics.locator(".rt-DataListItem", has_text="Answered turns")).to_contain_text(
            "1", timeout=LONG
        )
        page.get_by_role("link", name="Insights").click()
        expect(
            page.get_by_label("Insights", exact=True).locator(
                ".rt-DataListItem", has_text="Conversations"
            )
        ).not_to_contain_text(" 0", timeout=LONG)
        expect(page.locator("#chart-per-day .recharts-bar-rectangle").first).to_be_visible(
            timeout=LONG
        )
    finally:
        for cid in ids:
            _end(team_app, cid)
        context.close()
