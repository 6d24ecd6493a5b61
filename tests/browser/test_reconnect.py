"""A tab that loses its connection and comes back sees everything it missed meanwhile, and its
call and controls work again.

The network is cut for real: the tab goes offline (`set_offline`), and every WebSocket it has
open (Reflex's event socket, the sandbox call's room socket) is closed at once, as a lost
network closes them; while offline, new ones are refused. Chromium's offline mode alone can
leave an idle WebSocket open, so the tab's sockets run through `page.route_web_socket`.

What brings the tab up to date: Reflex reconnects its socket with `hydrate_and_load`, which runs
the room's on_load again, and that restarts the live stream from the store (the feeds' gap
check, `on_gap` -> `resync`, covers updates missed without a reconnect). The sandbox call frame
rejoins the room by itself, so the session never sees the call emptied.
"""

from __future__ import annotations

import re

from playwright.sync_api import Browser, Page, WebSocketRoute, expect

from tests.browser.pages import start_conversation

LONG = 30_000


class Network:
    """The tab's network: WebSockets pass through to the server until it is cut."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.online = True
        self._open: list[tuple[WebSocketRoute, WebSocketRoute]] = []
        page.route_web_socket(re.compile(".*"), self._connect)

    def _connect(self, socket: WebSocketRoute) -> None:
        if not self.online:
            socket.close(code=1011, reason="offline")
            return
        self._open.append((socket, socket.connect_to_server()))

    def cut(self) -> None:
        """Go offline: open connections drop, new ones fail."""
        self.online = False
        self.page.context.set_offline(True)
        for page_side, server_side in self._open:
            page_side.close(code=1001, reason="network lost")
            server_side.close()
        self._open.clear()

    def restore(self) -> None:
        self.online = True
        self.page.context.set_offline(False)


def _user_line(page: Page, text: str):
    return page.get_by_role("log", name="Transcript").locator("[data-role=user]", has_text=text)


def _say_and_hear(page: Page, text: str) -> None:
    page.get_by_role("textbox", name="Message").fill(text)
    page.get_by_role("button", name="Respond", exact=True).click()
    expect(_user_line(page, text)).to_be_visible(timeout=LONG)


def test_a_tab_back_online_shows_what_happened_while_it_was_offline(
    page: Page, browser: Browser, app_server
) -> None:
    network = Network(page)
    cid = start_conversation(page, app_server.url)
    transcript = page.get_by_role("log", name="Transcript")
    expect(transcript.locator("[data-role=replica]").first).to_be_visible(timeout=LONG)
    call_status = page.locator("#call").get_by_role("status")
    expect(call_status).to_have_text("Connected", timeout=LONG)
    replica_lines = transcript.locator("[data-role=replica]").count()

    network.cut()
    expect(call_status).not_to_have_text("Connected", timeout=LONG)

    # The same person, in another tab that stayed online, keeps the conversation going.
    other = browser.new_context()
    other.add_cookies(page.context.cookies())
    try:
        tab = other.new_page()
        tab.goto(f"{app_server.url}/room/{cid}")
        expect(tab.locator("#room-status")).to_have_attribute("data-status", "live", timeout=LONG)
        for n in range(1, 4):
            _say_and_hear(tab, f"Said while away {n}")
        expect(tab.get_by_label("Replica speaking state")).to_have_attribute(
            "data-speaking", "false", timeout=LONG
        )
    finally:
        other.close()

    network.restore()

    # Everything said meanwhile is there, the replica's answers too, and the call is back.
    for n in range(1, 4):
        expect(_user_line(page, f"Said while away {n}")).to_be_visible(timeout=LONG)
    expect(transcript.locator("[data-role=replica]")).to_have_count(replica_lines + 3, timeout=LONG)
    expect(page.locator("#room-status")).to_have_attribute("data-status", "live")
    expect(call_status).to_have_text("Connected", timeout=LONG)

    # And the tab is live again: what it sends now is answered and shown.
    _say_and_hear(page, "Back online")
    expect(transcript.locator("[data-role=replica]")).to_have_count(replica_lines + 4, timeout=LONG)
    page.get_by_role("button", name="End conversation").click()
    expect(page.locator("#room-status")).to_have_attribute("data-status", "ended", timeout=LONG)
    expect(call_status).to_contain_text("The conversation has ended.", timeout=LONG)
