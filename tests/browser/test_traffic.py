"""Issue 4: what one replica event costs the browser must not grow with the conversation.

Reflex resends a whole state var when it changes, so a room that kept its transcript or event
log in state would send more bytes for every event as the conversation grew. This test counts
the bytes of Reflex's `/_event` websocket frames that one Echo causes at the start of a sandbox
conversation, makes the conversation long through the UI (hundreds of echoes, each spoken by the
replica, so thousands of events through the real session and the real socket), measures the
same Echo again, and fails if an event then costs more than 20% more bytes.
"""

from __future__ import annotations

import logging
import statistics
import time
from dataclasses import dataclass

from playwright.sync_api import Page, WebSocket, expect

logger = logging.getLogger(__name__)

LONG = 30_000
MAX_GROWTH = 1.2
FILLER_ECHOES = 150
# Each filler is spoken as ~8 events (sent, started, utterance, 4 streamed steps, stopped).
FILLER_TEXT = "Filler {n}: the replica says these twelve words to make the conversation long."
# The session allows 10 sends a second (bursts of 20); stay under it.
SEND_INTERVAL_S = 0.11
MEASURED_TEXT = (
    "Measuring the cost of one echo: twenty four words spoken by the replica, "
    "streamed three words at a time, then the replica stops speaking again."
)
REPEATS = 3


@dataclass
class SocketBytes:
    """Bytes and frames the browser received on Reflex's event socket."""

    bytes: int = 0
    frames: int = 0
    largest: int = 0

    def on_frame(self, payload: str | bytes) -> None:
        size = len(payload.encode() if isinstance(payload, str) else payload)
        self.bytes += size
        self.frames += 1
        self.largest = max(self.largest, size)


def _watch_event_socket(page: Page) -> SocketBytes:
    received = SocketBytes()

    def on_socket(ws: WebSocket) -> None:
        if "/_event" in ws.url:
            ws.on("framereceived", received.on_frame)

    page.on("websocket", on_socket)
    return received


def _event_count(page: Page) -> int:
    """Events the Events panel stands for (a row of streaming partials is several)."""
    feed = page.get_by_role("log", name="Events").get_by_role("list").first
    return int(feed.get_attribute("data-messages") or 0)


def _wait_quiet(page: Page, received: SocketBytes, *, quiet_ms: int = 600) -> None:
    """Wait until the replica is silent and the socket has carried nothing for `quiet_ms`."""
    expect(page.get_by_label("Replica speaking state")).to_have_attribute(
        "data-speaking", "false", timeout=LONG
    )
    deadline = time.monotonic() + LONG / 1000
    while time.monotonic() < deadline:
        frames = received.frames
        page.wait_for_timeout(quiet_ms)
        if received.frames == frames:
            return
    raise AssertionError("the event socket never went quiet")


def _echo(page: Page, text: str) -> None:
    page.get_by_role("textbox", name="Message").fill(text)
    page.get_by_role("button", name="Echo", exact=True).click()


def _make_long(page: Page, received: SocketBytes) -> None:
    """Echo the fillers through the UI, paced under the session's send-rate limit."""
    message = page.get_by_role("textbox", name="Message")
    echo = page.get_by_role("button", name="Echo", exact=True)
    next_send = time.monotonic()
    for n in range(FILLER_ECHOES):
        wait = next_send - time.monotonic()
        if wait > 0:
            page.wait_for_timeout(wait * 1000)
        next_send = time.monotonic() + SEND_INTERVAL_S
        message.fill(FILLER_TEXT.format(n=n))
        echo.click()
    last = FILLER_TEXT.format(n=FILLER_ECHOES - 1)
    transcript = page.get_by_role("log", name="Transcript")
    try:
        expect(transcript.locator("[data-role=replica]", has_text=last).first).to_be_visible(
            timeout=LONG
        )
    except AssertionError as exc:
        raise AssertionError(
            f"the room could not keep up with {FILLER_ECHOES} echoes: the browser got "
            f"{received.bytes} bytes in {received.frames} frames (largest {received.largest})"
        ) from exc


def _bytes_per_event(page: Page, received: SocketBytes) -> float:
    """Median bytes per new event row over a few identical echoes, each spoken in full."""
    costs = []
    for _ in range(REPEATS):
        _wait_quiet(page, received)
        bytes_before, events_before = received.bytes, _event_count(page)
        _echo(page, MEASURED_TEXT)
        expect(page.get_by_role("textbox", name="Message")).to_have_value("", timeout=LONG)
        page.wait_for_function(
            "n => Number(document.querySelector('[role=log][aria-label=Events] [role=list]')"
            ".dataset.messages) > n",
            arg=events_before,
            timeout=LONG,
        )
        _wait_quiet(page, received)
        events = _event_count(page) - events_before
        assert events >= 10, f"one echo of 24 words should make 10+ events, made {events}"
        costs.append((received.bytes - bytes_before) / events)
    return statistics.median(costs)


def test_one_replica_event_costs_the_same_bytes_in_a_long_conversation(
    page: Page, app_server
) -> None:
    received = _watch_event_socket(page)
    page.goto(app_server.url)
    expect(page.locator("#mode-badge")).to_have_text("Sandbox", timeout=LONG)
    page.get_by_role("button", name="Start conversation").click()
    page.wait_for_url("**/room/**", timeout=LONG)
    expect(page.locator("#room-status")).to_have_attribute("data-status", "live", timeout=LONG)
    transcript = page.get_by_role("log", name="Transcript")
    expect(transcript.locator("[data-role=replica]").first).to_be_visible(timeout=LONG)

    short = _bytes_per_event(page, received)

    _make_long(page, received)
    _wait_quiet(page, received)
    events_in_conversation = _event_count(page)
    assert events_in_conversation >= 1000, f"only {events_in_conversation} events: not long"

    long = _bytes_per_event(page, received)
    logger.info(
        "bytes per event: %.0f at the start, %.0f after %d events (x%.2f); largest frame %d",
        short,
        long,
        events_in_conversation,
        long / short,
        received.largest,
    )

    assert long <= short * MAX_GROWTH, (
        f"one event cost {short:.0f} bytes at the start and {long:.0f} bytes after "
        f"{events_in_conversation} events (x{long / short:.2f}, limit x{MAX_GROWTH})"
    )
    page.get_by_role("button", name="End conversation").click()
    expect(page.locator("#room-status")).to_have_attribute("data-status", "ended", timeout=LONG)
