"""Screenshots of the studio at a laptop's and a phone's width, for the README.

Run with `.venv/bin/python -m scripts.screenshots` (after `make setup`): it starts the app in
sandbox mode on a free port with a throwaway database, holds a short conversation, and writes
docs/screenshots/room-{1280,390}.png; then, with accounts on, signs in an admin made from the
shell, starts three conversations and writes sign-in, console, watch, analytics and insights
screenshots at both widths.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from playwright.sync_api import Page, expect, sync_playwright

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.browser.pages import LONG, create_admin, sign_in, start_conversation
from tests.support.app_server import private_web_dir, start_app_server

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


ADMIN, PASSWORD = "ada@example.com", "a long team passphrase"


def _team_tour(browser, url: str) -> None:
    for size, viewport in SIZES.items():
        context = browser.new_context(viewport=viewport)
        page = context.new_page()
        page.goto(f"{url}/sign-in")
        expect(page.get_by_label("Email")).to_be_visible(timeout=LONG)
        page.screenshot(path=str(OUT / f"sign-in-{size}.png"))
        sign_in(page, page.url, ADMIN, PASSWORD)
        expect(page.locator("#account-menu")).to_be_visible(timeout=LONG)
        ids = [start_conversation(page, url, name=f"Customer {n}") for n in range(1, 4)]
        _converse(page)
        page.goto(f"{url}/console")
        expect(page.locator(f"tr[data-conversation='{ids[-1]}']")).to_contain_text(
            "Replica:", timeout=LONG
        )
        page.screenshot(path=str(OUT / f"console-{size}.png"), full_page=size == "1280")
        page.goto(f"{url}/console/{ids[0]}")
        expect(page.locator("#room-status")).to_have_attribute("data-status", "live", timeout=LONG)
        page.screenshot(path=str(OUT / f"watch-{size}.png"), full_page=size == "1280")
        page.goto(f"{url}/room/{ids[-1]}")
        page.get_by_role("button", name="End conversation").click()
        expect(page.locator("#room-status")).to_have_attribute("data-status", "ended", timeout=LONG)
        page.goto(f"{url}/history/{ids[-1]}")
        analytics = page.locator("#analytics")
        expect(analytics.locator(".recharts-area").first).to_be_visible(timeout=LONG)
        analytics.scroll_into_view_if_needed()
        analytics.screenshot(path=str(OUT / f"analytics-{size}.png"))
        page.goto(f"{url}/insights")
        expect(page.locator("#chart-per-day .recharts-bar-rectangle").first).to_be_visible(
            timeout=LONG
        )
        page.screenshot(path=str(OUT / f"insights-{size}.png"), full_page=size == "1280")
        for cid in ids[:-1]:
            page.goto(f"{url}/room/{cid}")
            page.get_by_role("button", name="End conversation").click()
            expect(page.locator("#room-status")).to_have_attribute(
                "data-status", "ended", timeout=LONG
            )
        context.close()


def main() -> None:
    """Write the screenshots."""
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
    with tempfile.TemporaryDirectory() as workdir:
        web = private_web_dir(Path(workdir) / "web")
        env = {"CVI_ACCOUNTS": "true", **({"REFLEX_WEB_WORKDIR": str(web)} if web else {})}
        with start_app_server(Path(workdir) / "app", extra_env=env) as app:
            create_admin(app, ADMIN, PASSWORD)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                _team_tour(browser, app.url)
                browser.close()


if __name__ == "__main__":
    main()
