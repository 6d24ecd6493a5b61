"""History in Chromium: a finished conversation is listed, shown whole, exported, and private."""

from __future__ import annotations

import json
from pathlib import Path

from playwright.sync_api import Browser, Page, expect

from cvi_app.sandbox.catalog import DEFAULT_PERSONA_ID, stock_personas, stock_replicas
from tests.exports.parsing import jsonl_records, markdown_lines, vtt_cues

LONG = 30_000
NAME = "History check"
QUESTION = "What plans do you offer?"


def _finished_conversation(page: Page, app_server) -> str:
    page.goto(app_server.url)
    expect(page.locator("#mode-badge")).to_have_text("Sandbox", timeout=LONG)
    page.get_by_role("textbox", name="Conversation name").fill(NAME)
    page.get_by_role("button", name="Start conversation").click()
    page.wait_for_url("**/room/**", timeout=LONG)
    expect(page.locator("#room-status")).to_have_attribute("data-status", "live", timeout=LONG)
    page.get_by_role("textbox", name="Message").fill(QUESTION)
    page.get_by_role("button", name="Respond", exact=True).click()
    transcript = page.get_by_role("log", name="Transcript")
    expect(transcript.locator("[data-role=user]", has_text=QUESTION)).to_be_visible(timeout=LONG)
    page.get_by_role("button", name="End conversation").click()
    expect(page.locator("#room-status")).to_have_attribute("data-status", "ended", timeout=LONG)
    return page.url.rstrip("/").rsplit("/", 1)[-1]


def _download(page: Page, label: str) -> str:
    with page.expect_download(timeout=LONG) as info:
        page.get_by_role("link", name=label).click()
    return Path(info.value.path()).read_text(encoding="utf-8")


def test_a_finished_conversation_is_listed_shown_exported_and_private(
    page: Page, browser: Browser, app_server
) -> None:
    cid = _finished_conversation(page, app_server)

    # Listed, found by name, filtered by status.
    page.goto(f"{app_server.url}/history")
    row = page.get_by_label("Conversations").locator(f"[data-conversation='{cid}']")
    expect(row).to_be_visible(timeout=LONG)
    page.get_by_role("textbox", name="Search conversations").fill("no such name")
    expect(page.locator("#history-empty")).to_be_visible(timeout=LONG)
    page.get_by_role("textbox", name="Search conversations").fill("history CHECK")
    expect(row).to_be_visible(timeout=LONG)
    expect(row.get_by_text("ended", exact=True)).to_be_visible(timeout=LONG)

    # Its page: the transcript from the store, the shutdown reason, tool calls and events.
    row.get_by_role("link", name=NAME).click()
    page.wait_for_url(f"**/history/{cid}", timeout=LONG)
    transcript = page.get_by_role("log", name="Transcript")
    expect(transcript.locator("[data-role=user]", has_text=QUESTION)).to_be_visible(timeout=LONG)
    expect(transcript.locator("[data-role=replica]").first).to_be_visible()
    # Why it ended, in words (the code itself stays with the shutdown webhook, below).
    expect(page.locator("#shutdown-reason")).to_have_text("The conversation was ended.")
    events = page.get_by_role("log", name="Events")
    expect(events.locator("[data-type='conversation.utterance']").first).to_be_visible()

    # The sandbox's closing webhooks reach the app: the official transcript becomes available.
    official = page.get_by_role("radio", name="Official")
    for _ in range(20):
        if official.count():
            break
        page.wait_for_timeout(500)
        page.reload()
        expect(transcript).to_be_visible(timeout=LONG)
    expect(official).to_be_visible(timeout=LONG)
    webhooks = page.get_by_label("Webhooks", exact=True)
    expect(webhooks).to_contain_text("end_conversation_endpoint_hit")
    official.click()
    expect(transcript.locator("[data-role=user]", has_text=QUESTION)).to_be_visible(timeout=LONG)

    # Every export downloads and parses back.
    data = json.loads(_download(page, "Transcript (JSON)"))
    assert data["conversation"]["conversation_id"] == cid
    assert data["source"] == "official"
    assert any(line["text"] == QUESTION for line in data["lines"])
    assert ("User:", QUESTION) in [
        (label.split("] ")[-1], text)
        for label, text in markdown_lines(_download(page, "Transcript (Markdown)"))
    ]
    cues = vtt_cues(_download(page, "Captions (WebVTT)"))
    assert ("User", QUESTION) in [(speaker, text) for speaker, text, _, _ in cues]
    assert [start for _, _, start, _ in cues] == sorted(start for _, _, start, _ in cues)
    records = jsonl_records(_download(page, "Raw events (JSONL)"))
    types = {record["event_type"] for record in records}
    assert {"conversation.utterance", "conversation.respond", "system.shutdown"} <= types

    # Another browser sees neither the conversation nor its exports.
    other = browser.new_context()
    try:
        stranger = other.new_page()
        stranger.goto(f"{app_server.url}/history/{cid}")
        expect(stranger.get_by_role("alert")).to_contain_text("not yours", timeout=LONG)
        expect(stranger.get_by_role("log", name="Transcript")).to_have_count(0)
        stranger.goto(f"{app_server.url}/history")
        expect(stranger.locator("#history-empty")).to_be_visible(timeout=LONG)
        export = stranger.request.get(f"{app_server.url}/api/conversations/{cid}/export.json")
        assert export.status == 404
    finally:
        other.close()


def test_history_names_personas_and_replicas_and_titles_unnamed_conversations(
    browser: Browser, app_server, owned_conversation
) -> None:
    persona = next(p for p in stock_personas() if p.persona_id == DEFAULT_PERSONA_ID)
    replica = next(r for r in stock_replicas() if r.replica_id == persona.default_replica_id)
    context = browser.new_context(storage_state=owned_conversation.storage_state)
    try:
        page = context.new_page()
        page.goto(f"{app_server.url}/history")
        row = page.locator(f"[data-conversation='{owned_conversation.conversation_id}']")
        title = f"Conversation with {replica.replica_name}, "
        expect(row.get_by_role("link")).to_contain_text(title, timeout=LONG)
        expect(row).to_contain_text(f"{persona.persona_name} · {replica.replica_name}")

        row.get_by_role("link").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text(title, timeout=LONG)
        main = page.get_by_role("main")
        expect(main).to_contain_text(f"{persona.persona_name} ({persona.persona_id})")
        expect(main).to_contain_text(f"{replica.replica_name} ({replica.replica_id})")
    finally:
        context.close()


def _overflow(page: Page) -> int:
    """How many pixels the page is wider than the window (0: nothing to scroll sideways)."""
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def test_on_a_phone_history_tables_scroll_inside_regions_the_keyboard_reaches(
    browser: Browser, app_server, owned_conversation
) -> None:
    context = browser.new_context(
        storage_state=owned_conversation.storage_state, viewport={"width": 390, "height": 844}
    )
    try:
        page = context.new_page()
        cid = owned_conversation.conversation_id
        for path, name in [("/history", "Conversations"), (f"/history/{cid}", "Event timeline")]:
            page.goto(app_server.url + path)
            region = page.get_by_role("region", name=name)
            expect(region.locator("tbody tr").first).to_be_visible(timeout=LONG)
            assert _overflow(page) <= 0, f"{path} scrolls sideways at 390 px"
            # The table is wider than the phone: its region scrolls, by keyboard too.
            assert region.evaluate("(r) => r.scrollWidth > r.clientWidth")
            expect(region).to_have_attribute("tabindex", "0")  # in the Tab order
            region.focus()
            page.keyboard.press("ArrowRight")
            page.wait_for_function("(r) => r.scrollLeft > 0", arg=region.element_handle())
    finally:
        context.close()


def test_on_a_wide_screen_the_page_is_centred(page: Page, app_server) -> None:
    page.set_viewport_size({"width": 1920, "height": 1000})
    page.goto(f"{app_server.url}/history")
    expect(page.get_by_role("heading", level=1)).to_be_visible(timeout=LONG)
    box = page.get_by_role("main").bounding_box()
    assert box is not None
    left, right = box["x"], 1920 - (box["x"] + box["width"])
    assert box["width"] < 1920 * 0.75 and abs(left - right) <= 2, box
