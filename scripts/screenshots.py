"""Screenshots of the room at a laptop's and a phone's width, for the README.

Run with `.venv/bin/python -m scripts.screenshots` (after `make setup`): it starts the app in
sandbox mode on a free port with a throwaway database, holds a short conversation, and writes
docs/screenshots/room-1280.png and room-390.png.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from playwright.sync_api import Page, expect, sync_playwright

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.browser.pages import LONG, start_conversation
from tests.support.app_server import start_app_server

OUT = Path(__file__).resolve().parents[1] / "docs" / "screenshots"
SIZES = {"1280": {"width": 1280, "height": 900}, "390": {"width": 390, "height": 844}}


def _converse(page: Page) -> None:
    transcript = page.get_by_role("log", name="Transcript")
    replies = transcript.locator("[data-role=replica]")
    for turn, words in enumerate(("My name is Sam.", "What is my name?"), start=2):
        page.get_by_role("textbox", name="Message").fill(words)
        page.get_by_role("button", name="Respond", exact=True).click()
        expect(replies).to_have_count(turn, timeout=LONG)  # the greeting, then one per turn
        expect(page.get_by_label("Replica speaking state")).to_have_attribute(
            "data-speaking", "false", timeout=LONG
        )


def main() -> None:
    """Write the two screenshots."""
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as workdir, start_app_server(Path(workdir)) as app:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for size, viewport in SIZES.items():
                page = browser.new_page(viewport=viewport)  # type: ignore[arg-type]
                start_conversation(page, app.url, name="Screenshot tour")
                _converse(page)
                page.screenshot(path=str(OUT / f"room-{size}.png"), full_page=size == "1280")
                page.close()
            browser.close()


if __name__ == "__main__":
    main()
