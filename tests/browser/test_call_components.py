"""The sandbox call view in real Chromium: join a sandbox room, speak, watch the replica answer.

Needs the app to serve the sandbox at `/sandbox` and the developer page at `/dev/call-components`
(the test app runs with `CVI_DEV_PAGES=true`; production serves no developer page).
"""

from __future__ import annotations

import json
from urllib.parse import urlencode

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect
from websockets.sync.client import connect

from cvi_app.config import SANDBOX_API_PREFIX
from cvi_app.pages.component_demo import ROUTE as DEMO_ROUTE
from cvi_app.pages.component_demo import TEST_MESSAGE
from cvi_app.transport import room_socket_url
from tests.support.app_server import SECRET_MARKERS

# The app under test only accepts its own sandbox key.
SANDBOX_KEY = SECRET_MARKERS["CVI_SANDBOX_API_KEY"]


def _create_conversation(base_url: str, **body: object) -> dict:
    response = httpx.post(
        f"{base_url}{SANDBOX_API_PREFIX}/conversations",
        json=body,
        headers={"x-api-key": SANDBOX_KEY},
        timeout=10,
    )
    response.raise_for_status()
    return response.json()


def _open_call(page: Page, base_url: str, conversation: dict) -> None:
    query = {"conversation": conversation["conversation_id"]}
    if conversation.get("meeting_token"):
        query["t"] = conversation["meeting_token"]
    page.goto(f"{base_url}{DEMO_ROUTE}?{urlencode(query)}")


def test_sandbox_call_joins_and_the_replica_answers_with_captions(page: Page, app_server) -> None:
    conversation = _create_conversation(
        app_server.url, custom_greeting="Welcome to the sandbox call view."
    )
    _open_call(page, app_server.url, conversation)

    replica = page.get_by_role("region", name="Replica")
    captions = page.get_by_label("Captions")
    say = page.get_by_role("button", name="Say")
    expect(say).to_be_enabled(timeout=30_000)
    # The replica greets whoever joins; wait for the greeting to finish before speaking.
    expect(replica).to_have_attribute("data-speaking", "false", timeout=20_000)
    expect(replica).to_contain_text("Listening")

    # Ask for the long story: the replica speaks long enough to see it speaking.
    page.get_by_role("textbox", name="Say something").fill("Tell me a long story please")
    say.click()

    expect(replica).to_have_attribute("data-speaking", "true", timeout=20_000)
    expect(replica).to_contain_text("Speaking")
    expect(captions).not_to_have_text("", timeout=20_000)  # what has been said so far
    expect(replica).to_have_attribute("data-speaking", "false", timeout=60_000)
    expect(replica).to_contain_text("Listening")
    expect(captions).to_have_text("")  # captions clear when the speech ends
    expect(page.get_by_role("textbox", name="Say something")).to_have_value("")


def test_a_say_can_never_be_longer_than_one_message(page: Page, app_server) -> None:
    conversation = _create_conversation(app_server.url)
    _open_call(page, app_server.url, conversation)
    say = page.get_by_role("button", name="Say")
    expect(say).to_be_enabled(timeout=30_000)
    box = page.get_by_role("textbox", name="Say something")

    box.fill("word " * 10_000)  # 50,000 characters
    assert len(box.input_value()) == 1000
    say.click()
    status = page.locator("#demo-call").get_by_role("status")
    expect(status).to_contain_text("You said:", timeout=10_000)
    # What is shown of it stays short, and the page does not grow with it.
    assert len(status.inner_text()) < 300
    assert page.evaluate("document.documentElement.scrollHeight") < 3000


def test_sandbox_call_shows_the_room_closing(page: Page, app_server) -> None:
    conversation = _create_conversation(app_server.url, require_auth=True)
    _open_call(page, app_server.url, conversation)
    expect(page.get_by_role("button", name="Say")).to_be_enabled(timeout=30_000)

    httpx.post(
        f"{app_server.url}{SANDBOX_API_PREFIX}/conversations/{conversation['conversation_id']}/end",
        headers={"x-api-key": SANDBOX_KEY},
        timeout=10,
    ).raise_for_status()

    expect(page.locator("#demo-call").get_by_role("status")).to_contain_text(
        "The conversation has ended.", timeout=20_000
    )
    expect(page.get_by_role("button", name="Say")).to_be_disabled()


def test_send_app_message_reaches_the_room_through_the_mounted_call(page: Page, app_server) -> None:
    conversation = _create_conversation(app_server.url)
    _open_call(page, app_server.url, conversation)
    expect(page.get_by_role("button", name="Say")).to_be_enabled(timeout=30_000)

    socket_url = room_socket_url(conversation["conversation_url"], user_name="observer")
    with connect(socket_url, open_timeout=10) as observer:
        assert json.loads(observer.recv(timeout=10))["type"] == "joined"
        page.get_by_role("button", name="Send a test app-message").click()
        while True:
            frame = json.loads(observer.recv(timeout=10))
            if frame["type"] == "app-message" and frame["data"].get("message_type") == "demo":
                break
    assert frame["data"] == TEST_MESSAGE


# The contrast of an element's text with what is behind it (WCAG 2 ratio). Colours go through a
# canvas, which turns any CSS colour into sRGB. Behind the replica's tile is a picture of any
# colour: there the worst of white and black counts.
_CONTRAST = """(element) => {
  const context = document.createElement("canvas").getContext("2d", { willReadFrequently: true });
  const rgba = (css) => {
    context.clearRect(0, 0, 1, 1);
    context.fillStyle = css;
    context.fillRect(0, 0, 1, 1);
    const [r, g, b, a] = context.getImageData(0, 0, 1, 1).data;
    return [r, g, b, a / 255];
  };
  const over = (top, bottom) => [0, 1, 2].map((i) => top[i] * top[3] + bottom[i] * (1 - top[3]));
  const luminance = (rgb) => {
    const [r, g, b] = rgb.map((v) => {
      const c = v / 255;
      return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const layers = [];
  let bottoms = [[255, 255, 255]];
  for (let node = element; node; node = node.parentElement) {
    const background = rgba(getComputedStyle(node).backgroundColor);
    if (background[3] >= 1) {
      bottoms = [background.slice(0, 3)];
      break;
    }
    if (background[3] > 0) layers.push(background);
    if (node.matches("[data-speaking]")) {
      bottoms = [[255, 255, 255], [0, 0, 0]];
      break;
    }
  }
  const text = rgba(getComputedStyle(element).color);
  for (let node = element; node; node = node.parentElement) text[3] *= getComputedStyle(node).opacity;
  return Math.min(...bottoms.map((bottom) => {
    const behind = layers.reduceRight((under, layer) => over(layer, under), bottom);
    const [high, low] = [luminance(over(text, behind)), luminance(behind)].sort((a, b) => b - a);
    return (high + 0.05) / (low + 0.05);
  }));
}"""
READABLE = 4.5
"""WCAG AA for text of normal size."""


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_sandbox_call_text_is_readable_in_the_themes_light_and_dark(
    browser: Browser, app_server, scheme: str
) -> None:
    context = browser.new_context(color_scheme=scheme)
    try:
        page = context.new_page()
        conversation = _create_conversation(app_server.url, custom_greeting="Hello.")
        _open_call(page, app_server.url, conversation)
        call = page.locator("#demo-call")
        replica = call.get_by_role("region", name="Replica")
        say = call.get_by_role("button", name="Say")
        expect(say).to_be_enabled(timeout=30_000)
        expect(replica).to_have_attribute("data-speaking", "false", timeout=20_000)
        assert page.evaluate("document.documentElement.classList.contains('dark')") == (
            scheme == "dark"
        )

        textbox = call.get_by_role("textbox", name="Say something")
        textbox.fill("Tell me a long story please")
        shown = {
            "status": call.get_by_role("status"),
            "Say button": say,
            "typed text": textbox,
            "Listening badge": replica.get_by_text("Listening", exact=True),
        }
        ratios = {name: element.evaluate(_CONTRAST) for name, element in shown.items()}
        say.click()
        expect(replica).to_have_attribute("data-speaking", "true", timeout=20_000)
        ratios["Speaking badge"] = replica.get_by_text("Speaking", exact=True).evaluate(_CONTRAST)
        caption = page.get_by_label("Captions").locator("span")
        expect(caption).not_to_be_empty(timeout=20_000)
        ratios["captions"] = caption.evaluate(_CONTRAST)
    finally:
        context.close()
    assert {name: ratio for name, ratio in ratios.items() if ratio < READABLE} == {}, ratios
