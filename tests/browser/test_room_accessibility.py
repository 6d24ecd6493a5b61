"""axe-core on the room: live and ended, at a laptop's and a phone's width, light and dark.

On a phone each part of the room is checked while it is the one shown (axe skips what is
hidden). The room is checked with something in every panel: a turn in the transcript, its
events, and the JSON composer open.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.axe import assert_accessible
from tests.browser.pages import LONG, start_conversation

SIZES = {"1280": {"width": 1280, "height": 800}, "390": {"width": 390, "height": 844}}
PHONE_PARTS = ("Call", "Conversation", "Events", "Controls")


def _with_a_turn(page: Page) -> None:
    page.get_by_role("textbox", name="Message").fill("Hello there")
    page.get_by_role("button", name="Respond", exact=True).click()
    transcript = page.get_by_role("log", name="Transcript")
    expect(transcript.get_by_text("Hello there", exact=True)).to_be_attached(timeout=LONG)
    expect(page.get_by_label("Replica speaking state")).to_have_attribute(
        "data-speaking", "false", timeout=LONG
    )


def _check(page: Page, size: str, where: str) -> None:
    if size == "390":
        parts = page.get_by_role("group", name="Parts of the room")
        for part in PHONE_PARTS:
            parts.get_by_role("button", name=part, exact=True).click()
            if part == "Controls":
                page.get_by_text("Send an interaction as JSON").click()
            assert_accessible(page, where=f"{where}, {part}")
    else:
        page.get_by_text("Send an interaction as JSON").click()
        assert_accessible(page, where=where)


@pytest.mark.parametrize("scheme", ("light", "dark"))
@pytest.mark.parametrize("size", SIZES)
def test_the_room_has_no_serious_or_critical_axe_violations(
    browser: Browser, app_server, size: str, scheme: str
) -> None:
    context = browser.new_context(viewport=SIZES[size], color_scheme=scheme)  # type: ignore[arg-type]
    try:
        page = context.new_page()
        start_conversation(page, app_server.url)
        _with_a_turn(page)
        _check(page, size, f"live room {size} px ({scheme})")

        page.reload()  # the composer closes; the ended room is checked from the top
        expect(page.locator("#room-status")).to_have_attribute("data-status", "live", timeout=LONG)
        if size == "390":
            page.get_by_role("group", name="Parts of the room").get_by_role(
                "button", name="Conversation", exact=True
            ).click()
        page.get_by_role("button", name="End conversation").click()
        expect(page.locator("#room-status")).to_have_attribute("data-status", "ended", timeout=LONG)
        _check(page, size, f"ended room {size} px ({scheme})")
    finally:
        context.close()
