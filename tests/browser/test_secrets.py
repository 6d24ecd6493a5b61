"""Secrets stay on the server: not in the production bundle, not in any websocket frame."""

import secrets
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from cvi_app.sandbox.app import create_sandbox_app
from tests.browser.pages import at_page, create_admin, sign_in
from tests.support.app_server import ROOT, SECRET_MARKERS, private_web_dir, start_app_server
from tests.support.servers import serve_asgi

LONG = 30_000


def test_secrets_appear_in_no_frame_and_no_frontend_file(page: Page, app_server) -> None:
    frames: list[str] = []
    page.on(
        "websocket",
        lambda ws: ws.on("framereceived", lambda payload: frames.append(str(payload))),
    )
    page.goto(app_server.url)
    page.get_by_role("button", name="Start conversation").click()
    page.wait_for_url("**/room/**", timeout=LONG)
    expect(page.locator("#room-status")).to_have_attribute("data-status", "live", timeout=LONG)
    page.get_by_role("textbox", name="Message").fill("Hello")
    page.get_by_role("button", name="Respond", exact=True).click()
    expect(
        page.get_by_role("log", name="Transcript").get_by_text("Hello", exact=True)
    ).to_be_visible(timeout=LONG)
    assert frames, "no websocket frames were captured"

    build = ROOT / ".web" / "build"
    files = [p for p in build.rglob("*") if p.is_file()]
    assert files, f"no production build under {build}"
    for name, marker in SECRET_MARKERS.items():
        assert not any(marker in frame for frame in frames), f"{name} sent to the browser"
        leaked = [str(p) for p in files if marker.encode() in Path(p).read_bytes()]
        assert not leaked, f"{name} compiled into {leaked}"


def test_the_tavus_key_stays_on_the_server(page: Page, tmp_path: Path) -> None:
    """Tavus mode, with the local sandbox standing in for tavusapi.com and a private build."""
    key = "tavus-key-marker-" + secrets.token_hex(8)
    web = private_web_dir(tmp_path / "web")
    if web is None:
        pytest.fail(".web/ is not prepared: run the app once (make test does)")
    with serve_asgi(create_sandbox_app(api_key=key)) as tavus:
        env = {
            "TAVUS_API_KEY": key,
            "TAVUS_API_BASE": f"{tavus}/v2",
            "REFLEX_WEB_WORKDIR": str(web),
            # Unset: as in any production run, developer pages are not served.
            "CVI_DEV_PAGES": "",
        }
        with start_app_server(tmp_path / "app", extra_env=env) as server:
            frames: list[str] = []
            page.on(
                "websocket",
                lambda ws: ws.on("framereceived", lambda payload: frames.append(str(payload))),
            )
            # With Tavus every studio page asks for an account first.
            page.goto(server.url)
            at_page(page, "/sign-in", "next=/")
            create_admin(server, "admin@example.com", "a long team passphrase")
            sign_in(page, page.url, "admin@example.com", "a long team passphrase")
            at_page(page, "")
            expect(page.locator("#mode-badge")).to_have_text("Tavus", timeout=LONG)
            # The persona list comes from "Tavus" through the server, with the key.
            page.get_by_role("combobox", name="Persona").click()
            expect(page.get_by_role("option", name="Support Agent")).to_be_visible(timeout=LONG)
            # No developer page in production: not served, not in the sitemap.
            page.goto(f"{server.url}/dev/call-components?conversation=c1")
            expect(page.get_by_text("Call components")).to_have_count(0)
            sitemap = httpx.get(f"{server.url}/sitemap.xml")
            assert sitemap.status_code == 200 and "<urlset" in sitemap.text
            assert "/dev/" not in sitemap.text

    assert frames, "no websocket frames were captured"
    assert not any(key in frame for frame in frames), "the Tavus key was sent to the browser"
    files = [p for p in (web / "build").rglob("*") if p.is_file()]
    assert files, "no production build in the private web folder"
    leaked = [str(p) for p in files if key.encode() in p.read_bytes()]
    assert not leaked, f"the Tavus key was compiled into {leaked}"
