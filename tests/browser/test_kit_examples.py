"""The kit's examples, each its own Reflex app, started and used in Chromium like a newcomer would.

`examples/support_panel`: a shop's product page whose "Talk to support" panel starts a sandbox
conversation; the replica's `lookup_order` is answered by the shop's own Python tool from the
shop's own table; the page's handler counts what the visitor said.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.axe import assert_accessible
from tests.browser.pages import LONG
from tests.browser.public_pages import DESKTOP, MEDIA, PHONE
from tests.support.app_server import ROOT, start_app_copy

EXAMPLES = ROOT / "examples"


@pytest.fixture(scope="module")
def support_panel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The support panel example on a fresh database; yields its URL."""
    workdir: Path = tmp_path_factory.mktemp("support_panel")
    env = {"REFLEX_DB_URL": f"sqlite:///{workdir / 'shop.db'}", "CVI_PUBLIC_URL": "{url}"}
    with start_app_copy(EXAMPLES / "support_panel", workdir, extra_env=env) as url:
        yield url


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["390px", "desktop"])
def test_the_support_panel_answers_from_the_shops_own_orders(
    browser: Browser, support_panel: str, viewport: dict
) -> None:
    context = browser.new_context(viewport=viewport, permissions=MEDIA)
    try:
        page = context.new_page()
        page.goto(support_panel)
        expect(page.get_by_role("heading", name="Trail runner 2")).to_be_visible(timeout=LONG)
        assert_accessible(page)
        page.get_by_role("button", name="Talk to support").click()
        expect(
            page.get_by_role("status").filter(has_text="The conversation is live.")
        ).to_be_visible(timeout=LONG)
        expect(page.get_by_role("region", name="Replica")).to_be_visible(timeout=LONG)
        transcript = page.get_by_role("log", name="Transcript")

        page.get_by_role("textbox", name="Say something").fill("Where is my order A-1001?")
        page.get_by_role("button", name="Say").click()
        # The shop's tool read its own table: only it knows "shipped yesterday".
        expect(transcript).to_contain_text("shipped yesterday", timeout=LONG)
        expect(page.get_by_text("Questions heard: 1")).to_be_visible(timeout=LONG)
        assert_accessible(page)
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]

        page.get_by_role("button", name="End conversation").click()
        expect(page.get_by_role("status").filter(has_text="has ended")).to_be_visible(timeout=LONG)
        expect(page.get_by_role("button", name="Talk to support")).to_be_visible()
    finally:
        context.close()


@pytest.fixture(scope="module")
def steer_panel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The steer panel example on a fresh database; yields its URL."""
    workdir: Path = tmp_path_factory.mktemp("steer_panel")
    env = {"REFLEX_DB_URL": f"sqlite:///{workdir / 'steer.db'}", "CVI_PUBLIC_URL": "{url}"}
    with start_app_copy(EXAMPLES / "steer_panel", workdir, extra_env=env) as url:
        yield url


def test_the_steer_panel_drives_the_replica_and_its_python_hears_it(
    browser: Browser, steer_panel: str
) -> None:
    context = browser.new_context(viewport=PHONE, permissions=MEDIA)
    try:
        page = context.new_page()
        page.goto(steer_panel)
        page.get_by_role("button", name="Start the conversation").click()
        transcript = page.get_by_role("log", name="Transcript")
        # The greeting set on the state's own settings.
        expect(transcript).to_contain_text("Ready when you are.", timeout=LONG)
        controls = page.get_by_role("group", name="Conversation controls")
        controls.get_by_label("Say to the agent").fill("Please repeat after me: blue lanterns")
        controls.get_by_role("button", name="Echo").click()
        expect(transcript).to_contain_text("Please repeat after me: blue lanterns", timeout=LONG)
        expect(page.locator("#last-reply")).to_contain_text("blue lanterns", timeout=LONG)
        expect(page.locator("#turns")).not_to_have_text("Replica turns: 0", timeout=LONG)

        # The context given as the component's prop, then added to from the controls.
        controls.get_by_label("Say to the agent").fill("What do you know?")
        controls.get_by_role("button", name="Respond").click()
        expect(transcript).to_contain_text("testing a prototype", timeout=LONG)
        controls.get_by_label("The agent's context").fill("The launch is on Friday.")
        controls.get_by_role("button", name="Add to context").click()
        controls.get_by_label("Say to the agent").fill("What do you know?")
        controls.get_by_role("button", name="Respond").click()
        expect(transcript).to_contain_text("launch is on Friday", timeout=LONG)

        controls.get_by_label("Say to the agent").fill("Tell me a long story")
        controls.get_by_role("button", name="Respond").click()
        expect(page.get_by_role("region", name="Replica")).to_contain_text("Speaking", timeout=LONG)
        controls.get_by_role("button", name="Interrupt").click()
        expect(page.get_by_role("region", name="Replica")).to_contain_text(
            "Listening", timeout=LONG
        )
        assert_accessible(page)

        page.get_by_role("button", name="End conversation").click()
        expect(page.locator("#last-reply")).to_contain_text("(ended", timeout=LONG)
    finally:
        context.close()
