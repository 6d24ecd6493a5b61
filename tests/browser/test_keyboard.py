"""The pages by keyboard alone: the skip link, the start form's order, starting with Enter."""

from __future__ import annotations

from playwright.sync_api import Locator, Page, expect

from tests.browser.pages import LONG

NAME = "Started by keyboard"


def _home(page: Page, url: str) -> None:
    page.goto(url)
    expect(page.locator("#mode-badge")).to_have_text("Sandbox", timeout=LONG)
    expect(page.get_by_role("combobox", name="Persona")).to_contain_text("Default", timeout=LONG)


def _tab_to(page: Page, target: Locator) -> None:
    page.keyboard.press("Tab")
    expect(target).to_be_focused()


def test_the_skip_link_is_the_first_stop_and_moves_to_the_main_content(
    page: Page, app_server
) -> None:
    _home(page, app_server.url)
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).not_to_be_in_viewport()

    _tab_to(page, skip)
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page.get_by_role("main")).to_be_focused()
    # The next Tab continues inside the main content, past the header.
    _tab_to(page, page.get_by_role("combobox", name="Persona"))


def test_the_start_form_is_reached_in_order_and_starts_a_conversation_by_keyboard(
    page: Page, app_server, ended_afterwards: list[str]
) -> None:
    _home(page, app_server.url)
    order = [
        page.get_by_role("link", name="Skip to main content"),
        page.get_by_role("link", name="CVI Studio"),
        page.get_by_role("navigation").get_by_role("link", name="Console"),
        page.get_by_role("navigation").get_by_role("link", name="Pages"),
        page.get_by_role("navigation").get_by_role("link", name="History"),
        page.get_by_role("navigation").get_by_role("link", name="Insights"),
        page.get_by_role("combobox", name="Persona"),
        page.get_by_role("combobox", name="Replica"),
        page.get_by_role("textbox", name="Conversation name"),
        page.get_by_role("textbox", name="Context"),
        page.get_by_role("textbox", name="Greeting"),
        page.get_by_role("spinbutton", name="Max call duration (s)"),
        page.get_by_role("spinbutton", name="Ends after everyone left (s)"),
        page.get_by_role("spinbutton", name="Ends if nobody joins (s)"),
        page.get_by_role("button", name="Start conversation"),
    ]
    for control in order:
        _tab_to(page, control)

    # Back to the persona picker: Space opens it, typing finds a persona, Enter picks it.
    persona = page.get_by_role("combobox", name="Persona")
    persona.focus()
    page.keyboard.press("Space")
    expect(page.get_by_role("listbox")).to_be_visible()
    # The open list focuses its selected option once placed; typing before that is overridden.
    expect(page.locator("[role=option]:focus")).to_have_count(1)
    page.keyboard.type("Support")
    expect(page.get_by_role("option", name="Support Agent")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("listbox")).to_have_count(0)
    expect(persona).to_have_text("Support Agent")
    expect(persona).to_be_focused()

    _tab_to(page, page.get_by_role("combobox", name="Replica"))
    _tab_to(page, page.get_by_role("textbox", name="Conversation name"))
    page.keyboard.type(NAME)
    start = page.get_by_role("button", name="Start conversation")
    start.focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/room/**", timeout=LONG)

    # The conversation started with what was chosen by keyboard.
    cid = page.url.rstrip("/").rsplit("/", 1)[-1]
    ended_afterwards.append(cid)
    page.goto(f"{app_server.url}/history/{cid}")
    expect(page.get_by_role("heading", level=1)).to_have_text(NAME, timeout=LONG)
    expect(page.get_by_role("main")).to_contain_text("Support Agent")
