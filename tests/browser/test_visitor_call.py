"""The visitor call (`VisitorCall`, daily-react) in real Chromium with a fake camera and microphone.

The component runs in a small app of its own (`tests/browser/visitor_call_app/`, copied to a
temporary folder and built there) whose page sets the room URL from a form and shows what the
triggers reported to the server. Daily's servers cannot be reached here, so no call is ever
joined: daily-js really tries (its call-machine bundle, from three hosts in turn) and really
fails. To look at the view while it connects, a test may hold those bundle requests and then
let them fail; nothing else stands in for Daily.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Route, expect

from tests.browser.axe import assert_accessible
from tests.browser.pages import LONG
from tests.support.app_server import (
    start_app_copy,
)

APP_DIR = Path(__file__).parent / "visitor_call_app"
FAKE_MEDIA = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
ROOM = "https://example.daily.co/room"
BUNDLE = "**/call-machine-object-bundle.js"

NOT_CONNECTED = "Not connected yet."
CONNECTING = "Connecting…"
FAILED = "We could not connect the call. Check your connection and try again."
ENDED = "The call has ended."
CONTROLS = ["Turn off microphone", "Turn off camera", "Share screen", "Leave"]

NO_SCREEN_SHARE = "delete MediaDevices.prototype.getDisplayMedia;"


@pytest.fixture(scope="module")
def call_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The visitor call's test app (production build, one port); yields its URL."""
    with start_app_copy(APP_DIR, tmp_path_factory.mktemp("visitor_call")) as url:
        yield url


@pytest.fixture(scope="module")
def media_browser(launch_browser: Any, browser_type_launch_args: dict) -> Iterator[Browser]:
    """Chromium with a fake camera and microphone, granted without asking."""
    args = [a for a in browser_type_launch_args.get("args", []) if a not in FAKE_MEDIA]
    browser = launch_browser(args=[*args, *FAKE_MEDIA])
    yield browser
    browser.close()


class BundleGate:
    """Holds daily-js's call-machine bundle requests until `fail()`, then fails every one.

    The requests would fail anyway (no route to Daily): holding them only keeps the call in
    "Connecting…" for as long as a test looks at it.
    """

    def __init__(self) -> None:
        self.held: list[Route] = []
        self.open = False

    def route(self, route: Route) -> None:
        if self.open:
            route.abort("internetdisconnected")
        else:
            self.held.append(route)

    def fail(self) -> None:
        self.open = True
        for route in self.held:
            route.abort("internetdisconnected")
        self.held.clear()


@contextlib.contextmanager
def _page(
    browser: Browser,
    url: str,
    *,
    viewport: dict = PHONE,
    scheme: str = "light",
    script: str = "",
    hold: bool = False,
) -> Iterator[tuple[Page, BundleGate]]:
    context: BrowserContext = browser.new_context(viewport=viewport, color_scheme=scheme)
    gate = BundleGate()
    try:
        if script:
            context.add_init_script(script)
        if hold:
            context.route(BUNDLE, gate.route)
        page = context.new_page()
        page.goto(url)
        expect(_status(page)).to_be_visible(timeout=LONG)
        yield page, gate
    finally:
        gate.fail()
        context.close()


def _call(page: Page):
    return page.locator("#call")


def _status(page: Page):
    return _call(page).get_by_role("status")


def _reported(page: Page) -> list[dict[str, Any]]:
    return json.loads(page.locator("#reported").inner_text() or "[]")


def _wait_reported(page: Page, count: int) -> list[dict[str, Any]]:
    """Wait until the server holds at least `count` trigger reports; return them all."""
    deadline = time.monotonic() + LONG / 1000
    while len(reported := _reported(page)) < count and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    return reported


def _join(page: Page, room: str = ROOM) -> None:
    page.get_by_label("Room URL").fill(room)
    page.get_by_role("button", name="Join", exact=True).click()


def _fits(page: Page, where: str) -> None:
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"horizontal scroll on {where}: {width}"
    assert_accessible(page, where=where)


def _outside_requests(page: Page) -> list[str]:
    origin = page.evaluate("location.origin")
    return [
        e["name"]
        for e in page.evaluate(
            "performance.getEntriesByType('resource').map(e => ({name: e.name}))"
        )
        if not e["name"].startswith(origin)
    ]


def test_an_empty_url_joins_nothing_and_reports_nothing(
    media_browser: Browser, call_app: str
) -> None:
    with _page(media_browser, call_app) as (page, _):
        expect(_status(page)).to_have_text(NOT_CONNECTED)
        page.wait_for_timeout(1500)  # time for anything that would start to start
        expect(_status(page)).to_have_text(NOT_CONNECTED)
        call = _call(page)
        expect(call.get_by_role("region", name="Replica")).to_have_count(0)
        expect(call.get_by_role("button")).to_have_count(0)
        assert _reported(page) == []
        assert page.evaluate("window.__cviCallFrames?.has('call') ?? false") is False
        assert _outside_requests(page) == []
        _fits(page, "the visitor call without a room")


def test_a_room_connects_with_keyboard_controls_then_says_it_could_not(
    media_browser: Browser, call_app: str
) -> None:
    with _page(media_browser, call_app, hold=True) as (page, gate):
        # The devices a pre-join check chose (Chromium's fake ones) are what the call uses.
        devices = page.evaluate("""async () => {
          const all = await navigator.mediaDevices.enumerateDevices();
          const id = (kind) => all.find((d) => d.kind === kind)?.deviceId || "";
          window.__cviDevices = {
            cameraId: id("videoinput"), microphoneId: id("audioinput"), speakerId: "",
          };
          return window.__cviDevices;
        }""")
        assert devices["cameraId"] and devices["microphoneId"], devices
        _join(page)

        call = _call(page)
        expect(_status(page)).to_have_text(CONNECTING)
        expect(call.get_by_role("region", name="Replica")).to_have_attribute(
            "data-speaking", "false"
        )
        expect(call.get_by_role("region", name="Replica")).to_contain_text(
            "The agent will appear here."
        )
        expect(call.get_by_role("region", name="You")).to_be_visible()
        expect(call.get_by_role("log", name="Captions")).to_have_attribute("aria-live", "polite")
        buttons = call.get_by_role("button")
        expect(buttons).to_have_count(len(CONTROLS))
        for name in CONTROLS:
            button = call.get_by_role("button", name=name, exact=True)
            expect(button).to_be_visible()
            box = button.bounding_box()
            assert box and box["width"] >= 44 and box["height"] >= 44, (name, box)
        # Sharing starts once the call is joined.
        expect(call.get_by_role("button", name="Share screen")).to_have_attribute(
            "aria-disabled", "true"
        )

        properties = page.evaluate("window.__cviCallFrames.get('call').call.properties")
        assert properties["videoSource"] == devices["cameraId"]
        assert properties["audioSource"] == devices["microphoneId"]
        assert properties["startVideoOff"] is False and properties["url"] == ROOM
        assert properties["userName"] == "Visitor"
        # send_app_message reaches the call, which sends nothing before it is joined.
        assert page.evaluate("window.__cviCallFrames.get('call').sendAppMessage({a: 1})") is False
        _fits(page, "the visitor call while connecting")

        # Tab from the form's Join button walks the controls in order; Space and Enter press.
        page.get_by_role("button", name="Join", exact=True).focus()
        for name in CONTROLS:
            page.keyboard.press("Tab")
            expect(call.get_by_role("button", name=name, exact=True)).to_be_focused()
        page.keyboard.press("Shift+Tab")
        page.keyboard.press("Shift+Tab")
        page.keyboard.press("Enter")
        camera = call.get_by_role("button", name="Turn on camera", exact=True)
        expect(camera).to_be_focused()
        expect(call.get_by_role("region", name="You")).to_have_text("Camera off")
        page.keyboard.press("Shift+Tab")
        page.keyboard.press("Space")
        expect(call.get_by_role("button", name="Turn on microphone", exact=True)).to_be_focused()
        page.keyboard.press("Space")
        expect(call.get_by_role("button", name="Turn off microphone", exact=True)).to_be_focused()

        # The network fails: a plain sentence for the visitor, the error itself for the server.
        gate.fail()
        expect(_status(page)).to_have_text(FAILED, timeout=LONG)
        reported = _wait_reported(page, 1)
        assert [e["on"] for e in reported] == ["error"], reported
        assert "call object bundle" in reported[0]["message"]
        assert "bundle" not in _status(page).inner_text()
        expect(call.get_by_role("region", name="Replica")).to_have_count(0)
        leave = call.get_by_role("button", name="Leave", exact=True)
        expect(buttons).to_have_count(1)
        expect(leave).to_have_text("Leave")  # alone, it says what it is in words
        _fits(page, "the visitor call that could not connect")

        # Leave by keyboard: the call is over, the server hears on_leave (never joined: no
        # on_left), and the keyboard stays on the call's status line.
        leave.focus()
        page.keyboard.press("Enter")
        expect(_status(page)).to_have_text(ENDED, timeout=LONG)
        expect(_status(page)).to_be_focused()
        expect(buttons).to_have_count(0)
        assert [e["on"] for e in _wait_reported(page, 2)] == ["error", "leave"]
        _fits(page, "the visitor call after Leave")


def test_leaving_while_connecting_ends_the_call_without_an_error(
    media_browser: Browser, call_app: str
) -> None:
    with _page(media_browser, call_app, hold=True) as (page, gate):
        _join(page)
        expect(_status(page)).to_have_text(CONNECTING)
        _call(page).get_by_role("button", name="Leave", exact=True).click()
        expect(_status(page)).to_have_text(ENDED, timeout=LONG)
        assert [e["on"] for e in _wait_reported(page, 1)] == ["leave"]
        # What the abandoned call says afterwards is no one's news.
        gate.fail()
        page.wait_for_timeout(8000)  # past daily-js's three failed bundle loads (about 6 s)
        expect(_status(page)).to_have_text(ENDED)
        assert [e["on"] for e in _reported(page)] == ["leave"]
        assert page.evaluate("window.__cviCallFrames.get('call').sendAppMessage({a: 1})") is False


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_desktop_labels_the_controls_and_fits_in_light_and_dark(
    media_browser: Browser, call_app: str, scheme: str
) -> None:
    with _page(media_browser, call_app, viewport=DESKTOP, scheme=scheme, hold=True) as (page, _):
        assert page.evaluate("document.documentElement.classList.contains('dark')") == (
            scheme == "dark"
        )
        _join(page)
        call = _call(page)
        expect(_status(page)).to_have_text(CONNECTING)
        for name in CONTROLS:
            expect(call.get_by_role("button", name=name, exact=True)).to_have_text(name)
        stage = call.get_by_role("region", name="Replica").bounding_box()
        assert stage and stage["width"] > stage["height"], stage  # landscape on a wide screen
        call.get_by_role("button", name="Turn off camera").click()
        expect(call.get_by_role("button", name="Turn on camera")).to_have_text("Turn on camera")
        expect(call.get_by_role("region", name="You")).to_have_text("Camera off")
        _fits(page, f"the visitor call on a desktop ({scheme})")


def test_no_share_button_where_the_browser_cannot_share(
    media_browser: Browser, call_app: str
) -> None:
    # Nothing held here: the call connects, and fails, as it would on its own.
    with _page(media_browser, call_app, script=NO_SCREEN_SHARE) as (page, _):
        _join(page)
        call = _call(page)
        expect(_status(page)).to_have_text(CONNECTING)
        expect(call.get_by_role("button", name="Turn off microphone")).to_be_visible()
        expect(call.get_by_role("button", name="Turn off camera")).to_be_visible()
        expect(call.get_by_role("button", name="Leave", exact=True)).to_be_visible()
        expect(call.get_by_role("button", name="Share screen")).to_have_count(0)
        expect(_status(page)).to_have_text(FAILED, timeout=LONG)
        assert [e["on"] for e in _wait_reported(page, 1)] == ["error"]
