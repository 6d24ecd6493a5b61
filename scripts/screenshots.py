"""Screenshots of the studio at a laptop's and a phone's width, for the README.

Run with `.venv/bin/python -m scripts.screenshots` (after `make setup`): it starts the app in
sandbox mode on a free port with a throwaway database, holds a short conversation, and writes
docs/screenshots/room-{1280,390}.png and a public page's steps (Pages, a visitor's landing,
device check, call and rating, the history with the rating, the page embedded elsewhere); then,
with accounts on, signs in an admin made from the
shell, starts three conversations and writes sign-in, console, watch, analytics and insights
screenshots at both widths.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from playwright.sync_api import Page, expect, sync_playwright

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.browser.pages import LONG, create_admin, sign_in, start_conversation
from tests.browser.public_pages import MEDIA, HostPage, make_page
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


def _visitor_tour(browser, url: str) -> None:
    """A public page: the studio's Pages, then a visitor's steps, the history, embedded."""
    studio = browser.new_page(viewport=SIZES["1280"])
    host = HostPage(f"{url}/p/acme-support?embed=1")
    try:
        make_page(
            studio,
            url,
            title="Acme support",
            slug="acme-support",
            Introduction="Ask us anything about your order. A video agent answers right away.",
            **{"Sites that may embed the page": host.origin},
        )
        for size, viewport in SIZES.items():
            studio.set_viewport_size(viewport)
            studio.goto(f"{url}/deployments")
            expect(studio.locator("[data-page='acme-support']")).to_be_visible(timeout=LONG)
            studio.screenshot(path=str(OUT / f"pages-{size}.png"), full_page=size == "1280")
        for size, viewport in SIZES.items():
            context = browser.new_context(viewport=viewport, permissions=MEDIA)
            visitor = context.new_page()
            visitor.goto(f"{url}/p/acme-support")
            start = visitor.get_by_role("button", name="Start")
            expect(start).to_be_visible(timeout=LONG)
            visitor.screenshot(path=str(OUT / f"visit-landing-{size}.png"))
            start.click()
            expect(visitor.get_by_role("status").filter(has_text="ready")).to_be_visible(
                timeout=LONG
            )
            visitor.wait_for_timeout(800)  # the level meter moves
            visitor.screenshot(path=str(OUT / f"visit-check-{size}.png"))
            visitor.get_by_role("button", name="Join the conversation").click()
            expect(visitor.get_by_role("log", name="Captions")).not_to_be_empty(timeout=LONG)
            visitor.get_by_role("textbox", name="Say something").fill("Where is my parcel?")
            visitor.get_by_role("button", name="Say").click()
            expect(visitor.get_by_role("status").filter(has_text="You said")).to_be_visible(
                timeout=LONG
            )
            visitor.screenshot(path=str(OUT / f"visit-call-{size}.png"))
            visitor.get_by_role("button", name="Leave").click()
            visitor.get_by_label("5", exact=True).check(timeout=LONG)
            visitor.get_by_label("Anything to add? (optional)").fill("Quick and friendly.")
            visitor.screenshot(path=str(OUT / f"visit-rating-{size}.png"))
            visitor.get_by_role("button", name="Send").click()
            expect(visitor.get_by_role("heading", name="Thanks for your feedback.")).to_be_visible(
                timeout=LONG
            )
            context.close()
            studio.set_viewport_size(viewport)
            studio.goto(f"{url}/history")
            row = studio.locator("[data-conversation]").filter(has_text="Acme support").first
            expect(row).to_contain_text("rated 5 of 5", timeout=LONG)
            row.get_by_role("link").first.click()
            expect(studio.get_by_text("Rated 5 of 5: Quick and friendly.")).to_be_visible(
                timeout=LONG
            )
            studio.screenshot(path=str(OUT / f"visit-history-{size}.png"), full_page=True)
        context = browser.new_context(viewport=SIZES["1280"], permissions=MEDIA)
        shop = context.new_page()
        shop.goto(host.origin)
        frame = shop.frame_locator("#cvi")
        frame.get_by_role("button", name="Start").click(timeout=LONG)
        frame.get_by_role("button", name="Join the conversation").click(timeout=LONG)
        expect(frame.get_by_role("log", name="Captions")).not_to_be_empty(timeout=LONG)
        shop.screenshot(path=str(OUT / "visit-embedded-1280.png"), full_page=True)
        frame.get_by_role("button", name="Leave").click()
        context.close()
    finally:
        host.close()
        studio.close()


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
            _visitor_tour(browser, app.url)
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
