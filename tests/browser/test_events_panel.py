"""The room's Events panel: one row per turn or echo, time and direction, copy, keyboard, quiet."""

from __future__ import annotations

import json
import re
import wave
from pathlib import Path

from playwright.sync_api import Locator, Page, expect

from tests.browser.axe import axe_violations
from tests.browser.pages import LONG, start_conversation

LONG_ECHO = " ".join(f"word{n}" for n in range(60))
CLOCK = re.compile(r"^\d\d:\d\d:\d\d\.\d{3}$")
IN_EVENTS = """target => {
  try {
    const e = document.querySelector(target);
    return !!(e && e.closest("[role=log][aria-label=Events]"));
  } catch (error) {
    return false; // a selector into a frame: not the Events panel
  }
}"""


def _events(page: Page) -> Locator:
    return page.get_by_role("log", name="Events")


def _quiet(page: Page) -> None:
    expect(page.get_by_label("Replica speaking state")).to_have_attribute(
        "data-speaking", "false", timeout=LONG
    )


def _echo(page: Page, text: str) -> None:
    page.get_by_role("textbox", name="Message").fill(text)
    page.get_by_role("button", name="Echo", exact=True).click()
    transcript = page.get_by_role("log", name="Transcript")
    expect(transcript.locator("[data-role=replica]", has_text=text).first).to_be_visible(
        timeout=LONG
    )
    _quiet(page)


def _filled_panel(page: Page, url: str) -> Locator:
    """A new conversation's Events log, with enough rows (four echoes) to scroll."""
    start_conversation(page, url)
    events = _events(page)
    _quiet(page)
    for n in range(4):
        _echo(page, f"Filling the panel, echo number {n}.")
    return events


def test_a_turn_is_one_row_that_opens_by_keyboard_with_time_direction_and_copy(
    page: Page, app_server
) -> None:
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=app_server.url)
    start_conversation(page, app_server.url)
    events = _events(page)
    _quiet(page)
    _echo(page, LONG_ECHO)

    # The replica's streaming partials of the echo are one row, counting them (the greeting's
    # turn is the row before).
    turn = events.locator("[data-type='conversation.utterance.streaming']").last
    expect(turn).to_contain_text("replica: word0 word1")
    expect(turn).to_contain_text(re.compile(r"\d+ messages"))
    count = int(turn.get_attribute("data-count") or 0)
    assert count > 6, f"a 60-word echo streamed in only {count} partials"
    expect(turn).to_contain_text("received")
    expect(turn.locator(".cvi-event-time")).to_have_text(CLOCK)

    # Sent rows say so, in words.
    echo_row = events.locator("[data-type='conversation.echo']").filter(has_text="word0 word1")
    expect(echo_row).to_have_count(1)
    expect(echo_row.locator(".cvi-event-dir")).to_have_text("sent")
    expect(echo_row.locator(".cvi-event-time")).to_have_text(CLOCK)

    # Enter opens the row: its first and last messages, and how many between.
    toggle = turn.locator(".cvi-event-toggle")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    toggle.focus()
    page.keyboard.press("Enter")
    expect(toggle).to_have_attribute("aria-expanded", "true")
    messages = turn.get_by_role("list", name="Messages in this row")
    expect(messages.get_by_role("listitem")).to_have_count(7)  # 3 first, "N more", 3 last
    expect(messages).to_contain_text(f"{count - 6} more")
    expect(messages.get_by_role("listitem").last).to_contain_text("word59")
    expect(turn).to_contain_text("The last message:")
    expect(turn.locator("pre")).to_contain_text('"final": true')
    page.keyboard.press("Space")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(messages).to_have_count(0)

    # Copy as JSON puts the row's message on the clipboard, whole and readable.
    echo_row.get_by_role("button", name="Copy as JSON").click()
    expect(echo_row.get_by_role("button", name="Copy as JSON")).to_contain_text("Copied")
    copied = json.loads(page.evaluate("navigator.clipboard.readText()"))
    assert copied["event_type"] == "conversation.echo"
    assert copied["properties"]["text"] == LONG_ECHO

    # The filter narrows to one direction.
    page.get_by_role("textbox", name="Filter events").fill("sent")
    expect(events.locator(".cvi-event[data-dir=received]")).to_have_count(0)
    expect(echo_row).to_have_count(1)
    page.get_by_role("textbox", name="Filter events").fill("")


def test_the_panel_keeps_its_heading_and_filter_in_view_and_stays_quiet(
    page: Page, app_server
) -> None:
    events = _filled_panel(page, app_server.url)
    box = events.evaluate("e => ({scroll: e.scrollHeight, client: e.clientHeight})")
    assert box["scroll"] > box["client"] * 1.5, f"the panel does not scroll yet: {box}"

    events.scroll_into_view_if_needed()
    events.evaluate("e => { e.scrollBy(0, -e.clientHeight); }")
    panel = page.get_by_role("region", name="Events")
    for what in (panel.get_by_role("heading", name="Events"), page.get_by_label("Filter events")):
        # What a reader sees at the control's centre is the control, not a row scrolled over it.
        on_top = what.evaluate(
            """e => {
              const r = e.getBoundingClientRect();
              const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
              return hit === e || e.contains(hit);
            }"""
        )
        assert on_top, "the panel's heading or filter scrolled out of view"

    # Rows are not named like the room's controls (a "Respond" row is no "Respond" button).
    expect(events.locator(".cvi-event[data-type='conversation.echo']").first).to_be_visible()
    expect(page.get_by_role("button", name=re.compile(r"conversation\."))).to_have_count(0)
    expect(page.get_by_role("button", name="Echo", exact=True)).to_have_count(1)

    # Named, focusable, and not a live region: events are read when a reader goes there.
    expect(events).to_have_attribute("aria-live", "off")
    expect(events).to_have_attribute("tabindex", "0")
    expect(page.get_by_role("log", name="Transcript")).to_have_attribute("aria-live", "polite")
    assert page.locator("[role=log] > li").count() == 0
    in_events = [
        v
        for v in axe_violations(page)
        if any(page.evaluate(IN_EVENTS, target) for target in v.targets)
    ]
    assert not in_events, "\n".join(v.describe() for v in in_events)


def _silent_wav(path: Path, seconds: float, rate: int = 24000) -> None:
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(b"\x00\x00" * int(seconds * rate))


def test_a_two_second_audio_echo_is_one_row(page: Page, app_server, tmp_path: Path) -> None:
    start_conversation(page, app_server.url)
    _quiet(page)
    wav = tmp_path / "two-seconds.wav"
    _silent_wav(wav, 2.0)
    page.locator("#echo-audio input[type=file]").set_input_files(str(wav))
    page.get_by_role("button", name="Echo audio").click()
    echo_rows = _events(page).locator("[data-type='conversation.echo']")
    expect(echo_rows.filter(has_text="audio echo, 2.0 s")).to_have_count(1, timeout=LONG)
    expect(echo_rows).to_have_count(1)
    assert int(echo_rows.get_attribute("data-count") or 0) > 20


def _top_in(log: Locator) -> float:
    """Where the log's first row is, relative to the log's own top edge (px)."""
    return log.evaluate(
        """e => e.querySelector('[role=list] > *').getBoundingClientRect().top
               - e.getBoundingClientRect().top"""
    )


def _newest_in_view(log: Locator) -> bool:
    return log.evaluate(
        """e => {
          const rows = e.querySelectorAll('[role=list] > *');
          const last = rows[rows.length - 1].getBoundingClientRect();
          const box = e.getBoundingClientRect();
          return last.bottom <= box.bottom + 1 && last.top >= box.top - 1;
        }"""
    )


def test_the_log_follows_new_events_and_keeps_a_readers_place_when_scrolled_up(
    page: Page, app_server
) -> None:
    events = _filled_panel(page, app_server.url)
    assert _newest_in_view(events), "at the newest row, the log shows it"

    # A reader scrolls up to the first rows; new events arrive below and the rows stay put.
    events.evaluate("e => { e.scrollTop = -e.scrollHeight; }")
    before, rows = _top_in(events), events.locator("[role=list] > *").count()
    _echo(page, "One more while someone reads the top.")
    expect(events.locator("[role=list] > *")).not_to_have_count(rows)
    assert abs(_top_in(events) - before) < 2, "the rows under the reader moved"
    assert not _newest_in_view(events)

    # Back at the bottom, the log follows again.
    events.evaluate("e => { e.scrollTop = 0; }")
    _echo(page, "And one more at the bottom.")
    assert _newest_in_view(events), "the log did not follow the newest row"


def test_a_long_log_renders_its_latest_rows_and_shows_earlier_ones_on_request(
    page: Page, app_server
) -> None:
    start_conversation(page, app_server.url)
    events = _events(page)
    _quiet(page)
    message = page.get_by_role("textbox", name="Message")
    for n in range(30):  # each echo is several rows: well over a page of them
        message.fill(f"Row filler {n}.")
        page.get_by_role("button", name="Echo", exact=True).click()
        page.wait_for_timeout(120)  # under the session's send rate
    transcript = page.get_by_role("log", name="Transcript")
    expect(transcript.get_by_text("Row filler 29.")).to_be_visible(timeout=LONG)
    _quiet(page)
    rows = events.locator("[role=list] > *")
    expect(rows).to_have_count(100)
    total = int(events.get_by_role("list").get_attribute("data-count") or 0)
    assert total > 100

    earlier = events.get_by_role("button", name=re.compile(r"^Show \d+ earlier events$"))
    earlier.click()
    expect(rows).to_have_count(min(total, 200))
    events.get_by_role("button", name="Show only the latest").click()
    expect(rows).to_have_count(100)
