import re

from playwright.sync_api import Page, expect

from cvi_app.access.owner_cookie import COOKIE_NAME


def test_home_page_shows_title_and_sandbox_mode_badge(page: Page, app_server) -> None:
    page.goto(app_server.url)
    expect(page).to_have_title(re.compile("CVI Studio"))
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    badge = page.locator("#mode-badge")
    expect(badge).to_have_text("Sandbox", timeout=20_000)
    expect(badge).to_have_attribute("aria-label", "mode sandbox")


def test_every_tab_of_a_browser_controls_its_conversations(browser, app_server) -> None:
    context = browser.new_context()
    try:
        pages = [context.new_page() for _ in range(3)]
        for page in pages:
            page.goto(app_server.url, wait_until="commit")
        for page in pages:
            expect(page.locator("#mode-badge")).to_have_text("Sandbox", timeout=30_000)
        cookies = [c for c in context.cookies() if c["name"] == COOKIE_NAME]
        assert len(cookies) == 1 and len(cookies[0]["value"]) >= 32

        # A conversation started in one tab is this browser's in every other tab.
        pages[0].get_by_role("button", name="Start conversation").click()
        pages[0].wait_for_url("**/room/**", timeout=30_000)
        for page in pages[1:]:
            page.goto(pages[0].url)
            expect(page.locator("#room-status")).to_have_text("live", timeout=30_000)
            expect(page.get_by_role("button", name="Respond")).to_be_visible()
    finally:
        context.close()
