"""What the browser tests do on the app's pages, written once."""

from __future__ import annotations

from playwright.sync_api import Page, expect

LONG = 30_000
"""Milliseconds to wait for something the app does over the network."""


def start_conversation(
    page: Page, url: str, *, persona: str | None = None, name: str | None = None
) -> str:
    """Start a sandbox conversation from the home page at `url`; return its id once live."""
    page.goto(url)
    expect(page.locator("#mode-badge")).to_have_text("Sandbox", timeout=LONG)
    if persona is not None:
        page.get_by_role("combobox", name="Persona").click()
        page.get_by_role("option", name=persona).click()
    if name is not None:
        page.get_by_role("textbox", name="Conversation name").fill(name)
    page.get_by_role("button", name="Start conversation").click()
    page.wait_for_url("**/room/**", timeout=LONG)
    expect(page.locator("#room-status")).to_have_attribute("data-status", "live", timeout=LONG)
    return page.url.rstrip("/").rsplit("/", 1)[-1]
