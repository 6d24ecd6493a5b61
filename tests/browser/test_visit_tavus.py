"""A public page in Tavus mode, with the local sandbox standing in for tavusapi.com.

The sandbox answers over real HTTP with a key, as Tavus would; Daily's servers cannot be reached
here, so the server's own join of the call really fails (daily-python cannot look the room up).
What a visitor notices then is checked: a plain sentence instead of a spinner that never ends,
the chance to try again, and no conversation left running (and billed) at the API. The call
view the visitor would get (`VisitorCall`) is tested in its own app (test_visitor_call.py).
"""

from __future__ import annotations

import secrets
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from cvi_app.deployments.visits import FAILED
from cvi_app.sandbox.app import create_sandbox_app, sandbox_of
from tests.browser.axe import assert_accessible
from tests.browser.pages import LONG, at_page, create_admin, sign_in
from tests.browser.public_pages import MEDIA, PHONE, make_page
from tests.support.app_server import private_web_dir, start_app_server
from tests.support.servers import serve_asgi

EMAIL, PASSWORD = "admin@example.com", "a long team passphrase"
RECORD = "Record conversations (Tavus stores the recording)"
TRANSPARENT = "Transparent background (the replica on your page)"


def _conversations(api: str, key: str) -> list[dict]:
    listed = httpx.get(f"{api}/conversations", headers={"x-api-key": key}, timeout=10)
    listed.raise_for_status()
    return listed.json()["data"]


def test_a_visitor_whose_call_cannot_be_set_up_is_told_so_and_nothing_is_left_running(
    page: Page, browser: Browser, tmp_path: Path
) -> None:
    key = "tavus-key-" + secrets.token_hex(8)
    web = private_web_dir(tmp_path / "web")
    if web is None:
        pytest.fail(".web/ is not prepared: run the app once (make test does)")
    stand_in = create_sandbox_app(api_key=key)
    with serve_asgi(stand_in) as tavus:
        api = f"{tavus}/v2"
        env = {"TAVUS_API_KEY": key, "TAVUS_API_BASE": api, "REFLEX_WEB_WORKDIR": str(web)}
        with start_app_server(tmp_path / "app", extra_env=env) as server:
            page.goto(server.url)
            at_page(page, "/sign-in", "next=/")
            create_admin(server, EMAIL, PASSWORD)
            sign_in(page, page.url, EMAIL, PASSWORD)
            at_page(page, "")
            make_page(
                page,
                server.url,
                title="Acme live",
                slug="acme-live",
                **{RECORD: "on", TRANSPARENT: "on"},
            )

            context = browser.new_context(viewport=PHONE, permissions=MEDIA)
            try:
                visitor = context.new_page()
                visitor.goto(f"{server.url}/p/acme-live")
                expect(visitor.get_by_role("heading", name="Acme live", level=1)).to_be_visible(
                    timeout=LONG
                )
                visitor.get_by_role("button", name="Start").click()
                expect(visitor.get_by_role("status").filter(has_text="ready")).to_be_visible(
                    timeout=LONG
                )
                visitor.get_by_role("button", name="Join the conversation").click()
                expect(visitor.get_by_text(FAILED, exact=True)).to_be_visible(timeout=LONG)
                # Back on the landing page, free to try again; no technical detail shown.
                expect(visitor.get_by_role("button", name="Start")).to_be_visible()
                for detail in ("Daily", "JoinError", "10 s", "127.0.0.1"):
                    expect(visitor.get_by_text(detail)).to_have_count(0)
                assert_accessible(visitor)
                assert visitor.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
            finally:
                context.close()

            # The conversation the start created at the API was ended, not left running.
            [created] = _conversations(api, key)
            assert "Acme live" in created["conversation_name"]
            assert created["status"] == "ended"
            # It was asked for as the page says: recorded, on a greenscreen (what "Tavus" got).
            asked = sandbox_of(stand_in).registry.get_conversation(created["conversation_id"])
            assert asked.properties.enable_recording and asked.properties.apply_greenscreen
