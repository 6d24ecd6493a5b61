"""An address the app has no page at: the app's own frame, a plain sentence and the way home."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.pages import LONG


def test_an_unknown_address_says_so_in_the_apps_layout_and_leads_home(
    page: Page, app_server
) -> None:
    response = page.goto(f"{app_server.url}/no/such/page")
    assert response is not None and response.status == 404

    expect(page).to_have_title("CVI Studio: page not found", timeout=LONG)
    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
    expect(page.get_by_role("main")).to_contain_text("There is no page at this address.")
    # The shared frame: the header landmark with the mode badge and the navigation.
    expect(page.get_by_role("banner").locator("#mode-badge")).to_have_text("Sandbox", timeout=LONG)
    expect(page.get_by_role("navigation").get_by_role("link", name="History")).to_be_visible()
    expect(page.get_by_text("404: Page not found")).to_have_count(0)

    page.get_by_role("link", name="Go to the home page").click()
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.get_by_role("button", name="Start conversation")).to_be_visible(timeout=LONG)
