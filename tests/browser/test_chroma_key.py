"""`ChromaKeyVideo` (chroma_key.js) and the call views' `transparent`, in real Chromium.

The component runs in a small app of its own (`tests/browser/chroma_key_app/`, copied to a
temporary folder and built there) whose page makes a real video track in the browser: a canvas
painted half Tavus's key green and half red, through `captureStream()`. It lies on a blue "page".
Chromium draws WebGL here with SwiftShader (no GPU). What was drawn is read back twice: the
canvas's own pixels (alpha), and a screenshot (what the page shows through).

To read a WebGL canvas back after it was shown, the tests ask for `preserveDrawingBuffer`
(the component itself does not); other init scripts take WebGL or `requestVideoFrameCallback`
away, or count the frames uploaded to WebGL.
"""

from __future__ import annotations

import base64
import contextlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Route, expect

from tests.browser.axe import assert_accessible
from tests.browser.pages import LONG
from tests.support.app_server import (
    start_app_copy,
)

APP_DIR = Path(__file__).parent / "chroma_key_app"
BUNDLE = "**/call-machine-object-bundle.js"
LABEL = "Keyed video"
WIDTH, HEIGHT = 320, 180
# Where the video lies in a screenshot of the blue page (16 px padding): its halves' centres.
LEFT_SPOT, RIGHT_SPOT = (16 + WIDTH // 4, 16 + HEIGHT // 2), (16 + 3 * WIDTH // 4, 16 + HEIGHT // 2)
BLUE, RED, KEY_GREEN = (0, 0, 255), (255, 0, 0), (0, 255, 155)
TOLERANCE = 16  # the track goes through YUV on its way to the <video>

PRESERVE_DRAWING = """(() => {
  const get = HTMLCanvasElement.prototype.getContext;
  HTMLCanvasElement.prototype.getContext = function (kind, options) {
    const more = /webgl/i.test(kind) ? { preserveDrawingBuffer: true } : {};
    return get.call(this, kind, { ...options, ...more });
  };
})();"""

COUNT_UPLOADS = """(() => {
  window.__uploads = 0;
  const upload = WebGLRenderingContext.prototype.texImage2D;
  WebGLRenderingContext.prototype.texImage2D = function (...args) {
    window.__uploads += 1;
    this.canvas.uploads = (this.canvas.uploads || 0) + 1;
    return upload.apply(this, args);
  };
  window.__videoFrameRequests = 0;
  const request = HTMLVideoElement.prototype.requestVideoFrameCallback;
  if (request) {
    HTMLVideoElement.prototype.requestVideoFrameCallback = function (...args) {
      window.__videoFrameRequests += 1;
      return request.apply(this, args);
    };
  }
})();"""

NO_WEBGL = """(() => {
  const get = HTMLCanvasElement.prototype.getContext;
  HTMLCanvasElement.prototype.getContext = function (kind, ...rest) {
    return /webgl/i.test(kind) ? null : get.call(this, kind, ...rest);
  };
})();"""

NO_VIDEO_FRAME_CALLBACKS = """
delete HTMLVideoElement.prototype.requestVideoFrameCallback;
delete HTMLVideoElement.prototype.cancelVideoFrameCallback;
"""

# The keyed canvas's own pixels (unpremultiplied RGBA) at the centres of its halves.
READ_CANVAS = """(canvas) => {
  const copy = document.createElement("canvas");
  copy.width = canvas.width;
  copy.height = canvas.height;
  const context = copy.getContext("2d");
  context.drawImage(canvas, 0, 0);
  const at = (x, y) => Array.from(context.getImageData(x, y, 1, 1).data);
  const y = Math.floor(canvas.height / 2);
  return {
    size: [canvas.width, canvas.height],
    left: at(Math.floor(canvas.width / 4), y),
    right: at(Math.floor((3 * canvas.width) / 4), y),
  };
}"""

# A PNG (base64) decoded by the browser itself; the RGB at each spot.
READ_PNG = """async ([png, spots]) => {
  const image = new Image();
  image.src = `data:image/png;base64,${png}`;
  await image.decode();
  const canvas = document.createElement("canvas");
  canvas.width = image.width;
  canvas.height = image.height;
  const context = canvas.getContext("2d");
  context.drawImage(image, 0, 0);
  return spots.map(([x, y]) => Array.from(context.getImageData(x, y, 1, 1).data).slice(0, 3));
}"""


@pytest.fixture(scope="module")
def key_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The chroma key's test app (production build, one port); yields its URL."""
    with start_app_copy(APP_DIR, tmp_path_factory.mktemp("chroma_key")) as url:
        yield url


@contextlib.contextmanager
def _page(
    browser: Browser, url: str, *scripts: str, hold_daily: bool = False, **options: Any
) -> Iterator[Page]:
    """A page at `url` after `scripts`; `hold_daily` holds daily-js's bundle until the end."""
    context = browser.new_context(viewport={"width": 800, "height": 600}, **options)
    held: list[Route] = []
    try:
        for script in scripts:
            context.add_init_script(script)
        if hold_daily:
            context.route(BUNDLE, lambda route: held.append(route))
        page = context.new_page()
        page.goto(url)
        yield page
    finally:
        for route in held:
            route.abort("internetdisconnected")
        context.close()


def _keyed(page: Page):
    return page.get_by_role("img", name=LABEL)


def _canvas_pixels(page: Page) -> dict[str, Any]:
    """The keyed canvas's pixels, once a frame of the track is drawn on it."""
    canvas = _keyed(page)
    expect(canvas).to_be_visible(timeout=LONG)
    deadline = time.monotonic() + LONG / 1000
    while True:
        pixels = canvas.evaluate(READ_CANVAS)
        if pixels["right"][3] > 0 or time.monotonic() > deadline:
            return pixels
        page.wait_for_timeout(100)


def _shown(page: Page) -> list[list[int]]:
    """What the page shows (a screenshot) at the centres of the video's halves."""
    png = base64.b64encode(page.locator("#probe-page").screenshot()).decode()
    return page.evaluate(READ_PNG, [png, [LEFT_SPOT, RIGHT_SPOT]])


def _near(actual: list[int], expected: tuple[int, ...]) -> bool:
    return all(abs(a - e) <= TOLERANCE for a, e in zip(actual, expected, strict=True))


def _assert_keyed(page: Page) -> None:
    """The green half is transparent, showing the blue page; the red half is opaque red."""
    pixels = _canvas_pixels(page)
    assert pixels["size"] == [WIDTH, HEIGHT], pixels  # drawn at the track's own size
    assert pixels["left"][3] <= 8, pixels
    assert pixels["right"][3] >= 247 and _near(pixels["right"][:3], RED), pixels
    left, right = _shown(page)
    assert _near(left, BLUE) and _near(right, RED), (left, right)


def _assert_plain_video_plays(page: Page) -> None:
    """The <video> plays, and the page shows it as it is: green and red, nothing keyed."""
    page.wait_for_function(
        "() => { const v = document.querySelector('video');"
        " return v.readyState >= 2 && !v.paused && v.currentTime > 0; }",
        timeout=LONG,
    )
    left, right = _shown(page)
    assert _near(left, KEY_GREEN) and _near(right, RED), (left, right)


def _uploads_stop(page: Page, count: str) -> None:
    """`count` (a JS expression: frames uploaded to WebGL) no longer grows."""
    before = page.evaluate(count)
    page.wait_for_timeout(600)
    assert page.evaluate(count) == before, f"{count}: frames are still being drawn"


def test_the_key_green_turns_transparent_over_the_page_and_red_stays_opaque(
    browser: Browser, key_app: str
) -> None:
    with _page(browser, key_app, PRESERVE_DRAWING, COUNT_UPLOADS) as page:
        _assert_keyed(page)
        assert _keyed(page).evaluate("e => e.tagName") == "CANVAS"
        # The <video> only feeds the canvas: hidden from sight and from assistive technology.
        video = page.locator("video")
        expect(video).to_have_attribute("aria-hidden", "true")
        assert video.evaluate("v => v.muted && v.playsInline && v.autoplay")
        assert page.evaluate("window.__videoFrameRequests") > 0  # paced by the video's frames
        assert_accessible(page, where="the keyed video")


def test_another_key_colour_keys_that_colour_out_instead(browser: Browser, key_app: str) -> None:
    with _page(browser, f"{key_app}/red", PRESERVE_DRAWING) as page:
        canvas = _keyed(page)
        expect(canvas).to_be_visible(timeout=LONG)
        deadline = time.monotonic() + LONG / 1000
        while (pixels := canvas.evaluate(READ_CANVAS))["left"][3] == 0:
            assert time.monotonic() < deadline, pixels
            page.wait_for_timeout(100)
        assert pixels["left"][3] >= 247 and pixels["right"][3] <= 8, pixels
        left, right = _shown(page)
        assert _near(right, BLUE), right
        # Spill suppression touches only colours near the key: the green keeps its hue.
        assert left[1] > 200 and left[0] < 60, left


def test_without_video_frame_callbacks_it_draws_on_animation_frames(
    browser: Browser, key_app: str
) -> None:
    with _page(browser, key_app, NO_VIDEO_FRAME_CALLBACKS, PRESERVE_DRAWING) as page:
        assert page.evaluate("'requestVideoFrameCallback' in HTMLVideoElement.prototype") is False
        _assert_keyed(page)


def test_without_webgl_the_plain_video_plays_unkeyed_instead_of_a_blank_tile(
    browser: Browser, key_app: str
) -> None:
    with _page(browser, key_app, NO_WEBGL) as page:
        video = page.locator("video.probe-video")
        expect(video).to_be_visible(timeout=LONG)
        expect(page.locator("canvas")).to_have_count(0)
        expect(video).not_to_have_attribute("aria-hidden", "true")
        expect(video).to_have_attribute("aria-label", LABEL)
        box = video.bounding_box()
        assert box and (box["width"], box["height"]) == (WIDTH, HEIGHT), box
        _assert_plain_video_plays(page)
        assert_accessible(page, where="the unkeyed video without WebGL")


def test_a_context_the_browser_takes_away_falls_back_to_the_plain_video(
    browser: Browser, key_app: str
) -> None:
    with _page(browser, key_app, PRESERVE_DRAWING) as page:
        _assert_keyed(page)
        _keyed(page).evaluate(
            "c => c.getContext('webgl').getExtension('WEBGL_lose_context').loseContext()"
        )
        expect(page.locator("canvas")).to_have_count(0)
        video = page.locator("video.probe-video")
        expect(video).to_have_attribute("aria-label", LABEL)
        _assert_plain_video_plays(page)


@pytest.mark.parametrize("pacing", ["video frames", "animation frames"])
def test_a_new_track_or_unmounting_stops_drawing_and_loses_the_context_not_the_track(
    browser: Browser, key_app: str, pacing: str
) -> None:
    scripts = [PRESERVE_DRAWING, COUNT_UPLOADS]
    if pacing == "animation frames":
        scripts.append(NO_VIDEO_FRAME_CALLBACKS)
    with _page(browser, key_app, *scripts) as page:
        _assert_keyed(page)
        _keyed(page).evaluate("canvas => { window.__firstCanvas = canvas; }")

        # A new track: a new canvas keys it; the first one's context is given back.
        page.get_by_role("button", name="New track").click()
        page.wait_for_function("() => window.__probeTracks.length === 2")
        page.wait_for_function(
            "() => { const c = document.querySelector('canvas[role=img]');"
            " return c && c !== window.__firstCanvas; }"
        )
        assert page.evaluate("window.__firstCanvas.getContext('webgl').isContextLost()")
        _assert_keyed(page)
        _uploads_stop(page, "window.__firstCanvas.uploads")
        _keyed(page).evaluate("canvas => { window.__secondCanvas = canvas; }")

        # Unmounted: no more frames, the context is lost, and the track (not its) still live.
        page.get_by_role("button", name="Hide video").click()
        expect(page.locator("canvas")).to_have_count(0)
        expect(page.locator("video")).to_have_count(0)
        assert page.evaluate("window.__secondCanvas.getContext('webgl').isContextLost()")
        assert page.evaluate("window.__probeTracks[1].readyState") == "live"
        _uploads_stop(page, "window.__uploads")

        # Mounted again on the same track: keyed again.
        page.get_by_role("button", name="Show video").click()
        _assert_keyed(page)


def test_transparent_call_views_have_no_fill_of_their_own(browser: Browser, key_app: str) -> None:
    transparent = "rgba(0, 0, 0, 0)"
    background = "e => getComputedStyle(e).backgroundColor"
    # daily-js's bundle is held, so the visitor call stays "Connecting…" and shows its stage.
    options = {"permissions": ["camera", "microphone"], "hold_daily": True}
    with _page(browser, f"{key_app}/calls", **options) as page:
        plain = page.locator("#sandbox-plain").get_by_role("region", name="Replica")
        clear = page.locator("#sandbox-clear").get_by_role("region", name="Replica")
        expect(clear).to_be_visible(timeout=LONG)
        assert plain.evaluate(background) != transparent
        assert clear.evaluate(background) == transparent

        call = page.locator("#call")
        expect(call.get_by_role("status")).to_have_text("Connecting…", timeout=LONG)
        replica = call.get_by_role("region", name="Replica")
        expect(replica).to_have_attribute("data-transparent", "true")
        expect(replica).to_contain_text("The agent will appear here.")
        assert replica.evaluate(background) == transparent
