"""The pre-join device check in real Chromium, with Chromium's fake camera and microphone.

The component runs in a small app of its own (`tests/browser/device_check_app/`, copied to a
temporary folder and built there) whose page shows what `on_change` and `on_problem` reported
to the server. Chromium gets `--use-fake-device-for-media-stream` (a test pattern and a beeping
microphone) but not `--use-fake-ui-for-media-stream`: each context grants or withholds the
camera and microphone itself.
"""

from __future__ import annotations

import contextlib
import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.browser.axe import assert_accessible
from tests.browser.pages import LONG
from tests.support.app_server import (
    start_app_copy,
)

APP_DIR = Path(__file__).parent / "device_check_app"
FAKE_MEDIA = "--use-fake-device-for-media-stream"
PHONE = {"width": 390, "height": 844}

READY = "Your camera and microphone are ready."
BLOCKED = (
    "Your browser is blocking the camera and microphone. Allow them for this site (look for "
    "the camera icon in the address bar), then choose Try again."
)
NO_CAMERA = (
    "Your microphone is ready, but we could not find a camera. You can still join; others "
    "will hear you but not see you."
)
OFF = "Your camera and microphone are off."

# Every stream the page gets, so a test can see which tracks are still live.
RECORD_STREAMS = """(() => {
  const media = navigator.mediaDevices;
  const ask = media.getUserMedia.bind(media);
  window.__testStreams = [];
  media.getUserMedia = async (constraints) => {
    const stream = await ask(constraints);
    window.__testStreams.push(stream);
    return stream;
  };
})();"""

# A machine without a camera: asking for video fails as Chromium fails it.
NO_CAMERA_SCRIPT = """(() => {
  const media = navigator.mediaDevices;
  const ask = media.getUserMedia.bind(media);
  media.getUserMedia = async (constraints) => {
    if (constraints.video) throw new DOMException("Requested device not found", "NotFoundError");
    return ask(constraints);
  };
})();"""

LIVE_TRACKS = "() => window.__testStreams.flatMap((s) => s.getTracks()).filter((t) => t.readyState === 'live').map((t) => t.kind)"


@pytest.fixture(scope="module")
def device_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The device check's test app (production build, one port); yields its URL."""
    with start_app_copy(APP_DIR, tmp_path_factory.mktemp("device_check")) as url:
        yield url


@pytest.fixture(scope="module")
def media_browser(launch_browser: Any, browser_type_launch_args: dict) -> Iterator[Browser]:
    """Chromium with a fake camera and microphone; each context decides the permission."""
    browser = launch_browser(args=[*browser_type_launch_args.get("args", []), FAKE_MEDIA])
    yield browser
    browser.close()


@contextlib.contextmanager
def _page(browser: Browser, url: str, *, granted: bool, script: str = RECORD_STREAMS):
    context: BrowserContext = browser.new_context(
        viewport=PHONE, permissions=["camera", "microphone"] if granted else []
    )
    try:
        context.add_init_script(script)
        page = context.new_page()
        page.goto(url)
        yield page
    finally:
        context.close()


def _reported(page: Page) -> dict[str, Any]:
    return json.loads(page.locator("#reported").inner_text() or "{}")


def _wait_reported(page: Page, **expected: Any) -> dict[str, Any]:
    """Wait until the server's copy of the latest on_change has these values; return it."""
    deadline = time.monotonic() + LONG / 1000
    while True:
        got = _reported(page)
        if all(got.get(k) == v for k, v in expected.items()):
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"on_change reported {got}, expected {expected}")
        page.wait_for_timeout(100)


def _fits_the_phone(page: Page, where: str) -> None:
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"horizontal scroll on {where}: {width}"
    assert_accessible(page, where=where)


def test_granted_shows_the_camera_the_level_and_the_devices(
    media_browser: Browser, device_app: str
) -> None:
    with _page(media_browser, device_app, granted=True) as page:
        status = page.get_by_role("status")
        expect(status).to_have_text(READY, timeout=LONG)
        video = page.get_by_label("Camera preview")
        expect(video).to_be_visible()
        page.wait_for_function(
            "() => { const v = document.querySelector('video'); return v.videoWidth > 0 && !v.paused; }",
            timeout=LONG,
        )
        assert video.evaluate("v => v.muted && v.playsInline")

        meter = page.get_by_role("meter", name="Microphone level")
        expect(meter).to_have_attribute("aria-valuemin", "0")
        expect(meter).to_have_attribute("aria-valuemax", "100")
        # The fake microphone beeps: the level rises above nothing at some point.
        page.wait_for_function(
            "() => Number(document.querySelector('[role=meter]').getAttribute('aria-valuenow')) > 0",
            timeout=LONG,
        )
        # ...and is shown at most about ten times a second.
        changes = page.evaluate("""() => new Promise((done) => {
          let n = 0;
          const meter = document.querySelector('[role=meter]');
          const seen = new MutationObserver((records) => { n += records.length; });
          seen.observe(meter, { attributes: true, attributeFilter: ['aria-valuenow'] });
          setTimeout(() => { seen.disconnect(); done(n); }, 2000);
        })""")
        assert changes <= 24, f"{changes} meter updates in 2 s"

        camera = page.get_by_label("Camera", exact=True)
        microphone = page.get_by_label("Microphone", exact=True)
        cameras = camera.locator("option").all_inner_texts()
        microphones = microphone.locator("option").all_inner_texts()
        assert cameras and all("fake" in name.lower() for name in cameras), cameras
        assert len(microphones) >= 2 and all("fake" in m.lower() for m in microphones)

        speaker = page.get_by_label("Speaker", exact=True)
        if page.evaluate("'setSinkId' in HTMLMediaElement.prototype"):
            expect(speaker.locator("option")).not_to_have_count(0)
            _wait_reported(page, speaker_id=speaker.input_value())
        else:
            expect(
                page.get_by_text("Sound plays on your device's default speaker.")
            ).to_be_visible()

        reported = _wait_reported(page, camera_ok=True, microphone_ok=True, problem="")
        assert reported["camera_id"] == camera.input_value() != ""
        assert reported["microphone_id"] == microphone.input_value() != ""
        devices = page.evaluate("window.__cviDevices")
        assert devices["cameraId"] == reported["camera_id"]
        assert devices["microphoneId"] == reported["microphone_id"]
        assert devices["speakerId"] == reported["speaker_id"]
        _fits_the_phone(page, "the device check, granted")

        # Another microphone: a new audio track, the old one stopped, the camera kept.
        old_audio = reported["microphone_id"]
        other = next(
            value
            for value in microphone.locator("option").evaluate_all("os => os.map(o => o.value)")
            if value != old_audio
        )
        microphone.select_option(other)
        _wait_reported(page, microphone_id=other, camera_id=reported["camera_id"])
        assert sorted(page.evaluate(LIVE_TRACKS)) == ["audio", "video"]
        expect(status).to_have_text(READY)


def test_turning_it_off_stops_every_track_and_on_starts_again(
    media_browser: Browser, device_app: str
) -> None:
    with _page(media_browser, device_app, granted=True) as page:
        expect(page.get_by_role("status")).to_have_text(READY, timeout=LONG)
        assert sorted(page.evaluate(LIVE_TRACKS)) == ["audio", "video"]

        page.get_by_role("button", name="Turn off").click()
        expect(page.get_by_role("status")).to_have_text(OFF, timeout=LONG)
        expect(page.get_by_label("Camera preview")).to_have_count(0)
        page.wait_for_function(f"() => ({LIVE_TRACKS})().length === 0", timeout=LONG)

        page.get_by_role("button", name="Turn on").click()
        expect(page.get_by_role("status")).to_have_text(READY, timeout=LONG)
        assert sorted(page.evaluate(LIVE_TRACKS)) == ["audio", "video"]


def test_denied_says_what_to_do_and_offers_try_again_by_keyboard(
    media_browser: Browser, device_app: str
) -> None:
    with _page(media_browser, device_app, granted=False) as page:
        expect(page.get_by_role("status")).to_have_text(BLOCKED, timeout=LONG)
        reported = _wait_reported(page, problem="denied")
        assert reported["camera_ok"] is False and reported["microphone_ok"] is False
        assert reported["camera_id"] == reported["microphone_id"] == ""
        problems = page.locator("#problems li")
        expect(problems).to_have_count(1, timeout=LONG)
        expect(problems.first).to_have_text(re.compile(r"^denied NotAllowedError"))
        expect(page.get_by_label("Camera preview")).to_have_count(0)
        expect(page.get_by_role("meter")).to_have_count(0)
        _fits_the_phone(page, "the device check, denied")

        # The first thing Tab reaches is "Try again"; Enter asks again (and is refused again).
        try_again = page.get_by_role("button", name="Try again")
        page.keyboard.press("Tab")
        expect(try_again).to_be_focused()
        page.keyboard.press("Enter")
        expect(problems).to_have_count(2, timeout=LONG)
        expect(page.get_by_role("status")).to_have_text(BLOCKED)
        expect(try_again).to_be_focused()  # it stayed while the check ran again


def test_a_missing_camera_still_uses_the_microphone(
    media_browser: Browser, device_app: str
) -> None:
    with _page(media_browser, device_app, granted=True, script=NO_CAMERA_SCRIPT) as page:
        expect(page.get_by_role("status")).to_have_text(NO_CAMERA, timeout=LONG)
        reported = _wait_reported(page, camera_ok=False, microphone_ok=True, problem="")
        assert reported["camera_id"] == "" and reported["microphone_id"] != ""
        expect(page.get_by_role("meter", name="Microphone level")).to_be_visible()
        expect(page.get_by_label("Camera preview")).to_have_count(0)
        expect(page.get_by_label("Microphone", exact=True)).to_be_visible()
        _fits_the_phone(page, "the device check without a camera")
