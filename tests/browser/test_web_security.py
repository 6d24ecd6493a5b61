"""The browser side of the app's defences, in real Chromium against the production build:
the owner cookie, framing, the websocket's origin check, and what reaches the log."""

from __future__ import annotations

import json
import time
import uuid
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from cvi_app.access.owner_cookie import COOKIE_NAME
from tests.browser.pages import start_conversation
from tests.support.servers import serve_asgi

LONG = 30_000


def _owner_cookies(context: BrowserContext) -> list[dict]:
    return [c for c in context.cookies() if c["name"] == COOKIE_NAME]


def test_the_server_gives_an_http_only_owner_cookie_page_script_cannot_read(
    page: Page, app_server
) -> None:
    frames: list[str] = []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda p: frames.append(str(p))))
    start_conversation(page, app_server.url)
    (cookie,) = _owner_cookies(page.context)
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Strict"
    assert COOKIE_NAME not in page.evaluate("document.cookie")
    assert not any(cookie["value"] in frame for frame in frames)


def test_a_cookie_fixed_in_a_browser_by_someone_else_gains_them_nothing(
    browser: Browser, app_server
) -> None:
    fixed = "value-the-attacker-chose"
    victim = browser.new_context()
    attacker = browser.new_context()
    try:
        for context in (victim, attacker):
            # What a same-site page could have written with document.cookie.
            context.add_cookies([{"name": COOKIE_NAME, "value": fixed, "url": app_server.url}])
        cid = start_conversation(victim.new_page(), app_server.url)
        assert [c["value"] for c in _owner_cookies(victim)] != [fixed]

        spy = attacker.new_page()
        spy.goto(f"{app_server.url}/room/{cid}")
        expect(spy.get_by_role("alert")).to_contain_text(
            "No conversation with this id", timeout=LONG
        )
        expect(spy.get_by_role("button", name="Respond", exact=True)).to_have_count(0)
        export = httpx.get(
            f"{app_server.url}/api/conversations/{cid}/export.json",
            cookies={COOKIE_NAME: fixed},
        )
        assert export.status_code == 404
    finally:
        victim.close()
        attacker.close()


def test_another_site_cannot_frame_the_app(page: Page, app_server) -> None:
    room = f"{app_server.url}/"
    headers = httpx.get(room).headers
    assert "frame-ancestors 'self'" in headers["content-security-policy"]
    assert headers["x-frame-options"] == "SAMEORIGIN"

    async def framing_page(scope, receive, send) -> None:
        body = f'<html><body><iframe id="f" src="{room}"></iframe></body></html>'.encode()
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"text/html")],
            }
        )
        await send({"type": "http.response.body", "body": body})

    with serve_asgi(framing_page) as other_site:
        # `localhost` is another origin than the app's 127.0.0.1.
        page.goto(other_site.replace("127.0.0.1", "localhost"))
        page.wait_for_timeout(3_000)
        framed = [frame for frame in page.frames if frame != page.main_frame]
        assert framed, "the framing page has no iframe"
        assert not any(
            frame.url.startswith(app_server.url) and frame.query_selector("#mode-badge")
            for frame in framed
        ), "the app rendered inside another site's frame"


def _socket_url(url: str) -> str:
    parts = urlsplit(url)
    return f"ws://{parts.netloc}/_event/?token={uuid.uuid4()}&EIO=4&transport=websocket"


def test_the_websocket_refuses_pages_of_other_origins(app_server) -> None:
    with pytest.raises(InvalidStatus):
        with connect(_socket_url(app_server.url), origin="http://evil.example") as socket:
            socket.recv(timeout=5)
    with connect(_socket_url(app_server.url), origin=app_server.url) as socket:
        assert str(socket.recv(timeout=5)).startswith("0")  # Engine.IO's open packet


def test_a_bad_event_logs_no_credential(page: Page, app_server) -> None:
    page.goto(app_server.url)
    expect(page.locator("#mode-badge")).to_have_text("Sandbox", timeout=LONG)
    (cookie,) = _owner_cookies(page.context)
    headers = {"Cookie": f"{COOKIE_NAME}={cookie['value']}; theme=secret-theme-value"}
    before = app_server.log_path.read_text()
    with connect(
        _socket_url(app_server.url), origin=app_server.url, additional_headers=headers
    ) as socket:
        socket.recv(timeout=5)
        socket.send("40/_event,{}")
        event = {
            "name": "state.no_such_state.no_such_handler",
            "payload": {},
            "router_data": {"pathname": "/", "query": {}, "asPath": "/"},
        }
        socket.send("42/_event," + json.dumps(["event", event]))
        time.sleep(2)
    logged = app_server.log_path.read_text()[len(before) :]
    assert "no_such_handler" in logged, "the bad event was not logged at all"
    assert cookie["value"] not in logged
    assert "secret-theme-value" not in logged
