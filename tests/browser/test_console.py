"""The operator console in Chromium: every live conversation updating in place, watch and steer."""

from __future__ import annotations

from playwright.sync_api import Browser, Page, expect

from tests.browser.axe import assert_accessible
from tests.browser.pages import LONG, at_page, start_conversation

CALL = "#call"


def _echo(page: Page, text: str) -> None:
    page.get_by_role("textbox", name="Message").fill(text)
    page.get_by_role("button", name="Echo", exact=True).click()
    expect(
        page.get_by_role("log", name="Transcript").get_by_text(text, exact=True).first
    ).to_be_visible(timeout=LONG)


def test_the_console_lists_every_live_conversation_and_follows_them_without_a_reload(
    browser: Browser, app_server, ended_afterwards: list[str]
) -> None:
    context = browser.new_context()
    stranger = browser.new_context()
    try:
        room = context.new_page()
        ids = [start_conversation(room, app_server.url, name=f"Console {n}") for n in range(3)]
        ended_afterwards.extend(ids)
        console = context.new_page()
        console.goto(f"{app_server.url}/console")
        table = console.get_by_role("region", name="Live conversations")
        for n, cid in enumerate(ids):
            row = table.locator(f"tr[data-conversation='{cid}']")
            expect(row).to_contain_text(f"Console {n}", timeout=LONG)
        assert_accessible(console, where="the console")

        # A line said in the last room reaches its row while the console stays open.
        _echo(room, "The console sees this line.")
        last = table.locator(f"tr[data-conversation='{ids[2]}']")
        expect(last).to_contain_text("Replica: The console sees this line.", timeout=LONG)
        expect(table.locator("tr[data-conversation]")).to_have_count(3)

        # Another browser's console shows none of them.
        other = stranger.new_page()
        other.goto(f"{app_server.url}/console")
        expect(other.locator("#console-empty")).to_be_visible(timeout=LONG)

        # Ending one takes it off the table.
        room.get_by_role("button", name="End conversation").click()
        expect(last).to_have_count(0, timeout=LONG)
        expect(table.locator("tr[data-conversation]")).to_have_count(2)
    finally:
        context.close()
        stranger.close()


def test_an_operator_watches_a_conversation_without_joining_and_steers_it(
    browser: Browser, app_server, ended_afterwards: list[str]
) -> None:
    context = browser.new_context()
    try:
        room = context.new_page()
        cid = start_conversation(room, app_server.url, name="Watched")
        ended_afterwards.append(cid)
        watch = context.new_page()
        watch.goto(f"{app_server.url}/console")
        watch.get_by_role("link", name="Watched").click()
        at_page(watch, f"/console/{cid}")
        expect(watch.get_by_role("heading", name="Watching: Watched")).to_be_visible(timeout=LONG)
        expect(watch.locator("#room-status")).to_have_attribute("data-status", "live", timeout=LONG)
        expect(watch.locator(CALL)).to_have_count(0)
        expect(watch.locator("#watch-note")).to_be_visible()

        # Each steer reaches the conversation, and the room sees it.
        _echo(watch, "Said from the console.")
        expect(
            room.get_by_role("log", name="Transcript").get_by_text("Said from the console.")
        ).to_be_visible(timeout=LONG)
        watch.get_by_role("textbox", name="Context").fill("The caller is a returning customer.")
        watch.get_by_role("button", name="Append context").click()
        expect(watch.get_by_text("The context was added")).to_be_visible(timeout=LONG)
        watch.get_by_role("button", name="Interrupt").click()
        events = room.get_by_role("log", name="Events")
        expect(events.get_by_text("conversation.interrupt").first).to_be_visible(timeout=LONG)
        assert_accessible(watch, where="the watch view")

        watch.get_by_role("button", name="End conversation").click()
        expect(room.locator("#room-status")).to_have_attribute("data-status", "ended", timeout=LONG)
    finally:
        context.close()


def test_the_console_works_on_a_phone(browser: Browser, app_server, ended_afterwards) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844})
    try:
        page = context.new_page()
        cid = start_conversation(page, app_server.url, name="On a phone")
        ended_afterwards.append(cid)
        page.goto(f"{app_server.url}/console")
        row = page.locator(f"tr[data-conversation='{cid}']")
        expect(row).to_be_visible(timeout=LONG)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        assert_accessible(page, where="the console at 390 px")
    finally:
        context.close()
