import re

from playwright.sync_api import Page, expect


def test_home_page_shows_title_and_sandbox_mode_badge(page: Page, app_server) -> None:
    page.goto(app_server.url)
    expect(page).to_have_title(re.compile("CVI Studio"))
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    badge = page.locator("#mode-badge")
    expect(badge).to_have_text("Sandbox", timeout=20_000)
    expect(badge).to_have_attribute("aria-label", "mode sandbox")
