"""The room as a newcomer meets it: one message box, plain words, feedback, an ended room's way
on, who is in the call, the JSON composer, the phone layout and one view of who speaks."""

import re

from playwright.sync_api import Page, expect

from tests.browser.pages import LONG, start_conversation


def _toast(page: Page, text: str):
    return page.get_by_role("region", name=re.compile("Notifications")).get_by_text(text)


def test_enter_sends_the_message_and_shift_enter_starts_a_new_line(page: Page, app_server) -> None:
    start_conversation(page, app_server.url)
    box = page.get_by_role("textbox", name="Message")
    respond = page.get_by_role("button", name="Respond", exact=True)
    expect(respond).to_be_disabled()  # nothing written yet
    expect(page.get_by_role("button", name="Echo", exact=True)).to_be_disabled()

    box.fill("First line")
    box.press("Shift+Enter")
    box.press_sequentially("second line")
    expect(box).to_have_value("First line\nsecond line")
    box.press("Enter")

    transcript = page.get_by_role("log", name="Transcript")
    expect(transcript.get_by_text("second line").first).to_be_visible(timeout=LONG)
    expect(box).to_have_value("")


def test_refusals_are_plain_sentences(page: Page, app_server) -> None:
    start_conversation(page, app_server.url)
    page.get_by_role("textbox", name="Message").fill("word " * 900)  # over 4 KB as JSON
    page.get_by_role("button", name="Respond", exact=True).click()
    expect(_toast(page, "too long to send in one message")).to_be_visible(timeout=LONG)
    expect(page.get_by_text("app-message limit")).to_have_count(0)
    expect(page.get_by_text("split_echo_text")).to_have_count(0)


def test_every_control_says_what_happened(page: Page, app_server) -> None:
    start_conversation(page, app_server.url)
    page.get_by_role("textbox", name="Context").fill("The user's name is Ada.")
    page.get_by_role("button", name="Overwrite context").click()
    expect(_toast(page, "The replica's context was replaced.")).to_be_visible(timeout=LONG)

    page.get_by_role("combobox", name="Pause sensitivity").click()
    page.get_by_role("option", name="high", exact=True).click()
    expect(_toast(page, "Pause sensitivity is now high.")).to_be_visible(timeout=LONG)
    expect(page.get_by_role("combobox", name="Pause sensitivity")).to_have_text("high")


def test_an_ended_room_says_so_disables_every_control_and_offers_a_way_on(
    page: Page, app_server
) -> None:
    cid = start_conversation(page, app_server.url)
    page.get_by_role("button", name="End conversation").click()
    expect(page.locator("#room-status")).to_have_attribute("data-status", "ended", timeout=LONG)
    expect(page.get_by_text("This conversation has ended.")).to_be_visible()
    page.get_by_role("textbox", name="Message").fill("too late")
    for name in ("Respond", "Echo", "Interrupt", "End conversation", "Overwrite context"):
        expect(page.get_by_role("button", name=name, exact=True)).to_be_disabled()
    for name in ("Pause sensitivity", "Interrupt sensitivity"):
        expect(page.get_by_role("combobox", name=name)).to_be_disabled()
    expect(page.locator("#echo-audio button")).to_be_disabled()  # the WAV picker
    expect(page.get_by_role("button", name="Echo audio")).to_be_disabled()
    expect(page.get_by_role("link", name="View in history")).to_have_attribute(
        "href", f"/history/{cid}"
    )


def test_an_unknown_room_says_there_is_no_such_conversation(page: Page, app_server) -> None:
    page.goto(f"{app_server.url}/room/c-no-such-conversation")
    expect(page.get_by_role("heading", level=1)).to_have_text("Conversation not available")
    expect(page.get_by_role("alert")).to_contain_text("No conversation with this id", timeout=LONG)
    expect(page.get_by_role("link", name="Start a conversation of your own")).to_be_visible()


def test_the_call_panel_lists_who_is_in_the_call_and_the_join_link(page: Page, app_server) -> None:
    start_conversation(page, app_server.url)
    people = page.get_by_role("list", name="Participants")
    expect(people.get_by_role("listitem")).to_have_count(3, timeout=LONG)  # replica, app, you
    expect(people).to_contain_text("Replica · the replica")
    expect(people).to_contain_text("CVI Studio · this app, in the call")
    expect(people).to_contain_text("a person")
    expect(page.locator("#room-link")).to_have_text("The app is connected to the room.")
    join = page.get_by_role("textbox", name="Join link")
    expect(join).to_have_value(re.compile(r"^https?://.+/sandbox/rooms/.+"))
    page.get_by_role("button", name="Copy join link").click()
    expect(_toast(page, "The join link was copied.")).to_be_visible(timeout=LONG)


def test_the_json_composer_sends_a_checked_interaction(page: Page, app_server) -> None:
    start_conversation(page, app_server.url)
    page.get_by_text("Send an interaction as JSON").click()
    composer = page.get_by_role("textbox", name="Interaction JSON")

    composer.fill('{"event_type": "conversation.respond"}')
    page.get_by_role("button", name="Send JSON").click()
    expect(_toast(page, "not a message the replica accepts")).to_be_visible(timeout=LONG)

    page.get_by_role("combobox", name="Template").click()
    page.get_by_role("option", name="conversation.respond").click()
    expect(composer).to_have_value(re.compile("What can you help me with"))
    page.get_by_role("button", name="Send JSON").click()
    expect(_toast(page, "The interaction was sent.")).to_be_visible(timeout=LONG)
    transcript = page.get_by_role("log", name="Transcript")
    expect(transcript.get_by_text("What can you help me with?").first).to_be_visible(timeout=LONG)


def test_the_tile_and_the_badges_show_one_speaking_state(page: Page, app_server) -> None:
    start_conversation(page, app_server.url)
    tile = page.get_by_role("region", name="Replica")
    badge = page.get_by_label("Replica speaking state")
    captions = page.get_by_label("Captions")
    # Only the transcript and status changes are announced: not every caption or badge flip.
    expect(captions).to_have_attribute("aria-live", "off")
    assert badge.get_attribute("aria-live") is None
    page.get_by_role("textbox", name="Message").fill("Tell me a long story please")
    page.get_by_role("button", name="Respond", exact=True).click()
    expect(badge).to_have_attribute("data-speaking", "true", timeout=LONG)
    expect(tile).to_have_attribute("data-speaking", "true")
    expect(captions).not_to_have_text("", timeout=LONG)
    page.get_by_role("button", name="Interrupt", exact=True).click()
    expect(badge).to_have_attribute("data-speaking", "false", timeout=LONG)
    expect(tile).to_have_attribute("data-speaking", "false")
    expect(captions).to_have_text("")  # no caption outlives the speech
    # The interrupted line shows what was spoken, marked, not the whole planned story.
    story = page.get_by_role("log", name="Transcript").locator("[data-role=replica]").last
    expect(story).to_have_attribute("data-interrupted", "true", timeout=LONG)
    expect(story).not_to_contain_text("That is the end of the story.")


def test_on_a_phone_the_room_shows_one_part_at_a_time(page: Page, app_server) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    start_conversation(page, app_server.url)
    parts = page.get_by_role("group", name="Parts of the room")
    expect(parts).to_be_visible()
    transcript = page.get_by_role("log", name="Transcript")
    expect(transcript).to_be_visible()
    expect(page.get_by_role("log", name="Events")).to_be_hidden()

    page.get_by_role("textbox", name="Message").fill("Hello from a phone")
    page.get_by_role("button", name="Respond", exact=True).click()
    line = transcript.get_by_text("Hello from a phone", exact=True)
    expect(line).to_be_in_viewport(timeout=LONG)  # the reply is in view, not off screen

    parts.get_by_role("button", name="Events").click()
    expect(page.get_by_role("log", name="Events")).to_be_visible()
    expect(transcript).to_be_hidden()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page is {width}px wide at 390px"


def _focused_name(page: Page) -> str:
    return page.evaluate(
        """() => {
            const el = document.activeElement;
            if (!el) return "";
            const labelled = el.getAttribute("aria-label");
            if (labelled) return labelled;
            if (el.labels && el.labels.length) return el.labels[0].innerText.trim();
            return (el.innerText || "").trim().split("\\n")[0];
        }"""
    )


def test_every_control_of_the_room_is_reached_and_used_by_keyboard(page: Page, app_server) -> None:
    start_conversation(page, app_server.url)
    page.get_by_role("textbox", name="Message").fill("Typed, then sent by keyboard")
    page.locator("body").focus()
    reached: list[str] = []
    for _ in range(80):
        page.keyboard.press("Tab")
        reached.append(_focused_name(page))
    for name in (
        "Message",
        "Respond",
        "Echo",
        "Interrupt",
        "End conversation",
        "Context",
        "Overwrite context",
        "Append context",
        "Pause sensitivity",
        "Interrupt sensitivity",
        "Choose WAV",
        "Send an interaction as JSON",
        "Copy join link",
        "Filter events",
    ):
        assert name in reached, f"{name!r} is not reached by Tab (reached: {reached})"

    page.get_by_role("textbox", name="Message").focus()
    page.keyboard.press("Enter")
    transcript = page.get_by_role("log", name="Transcript")
    expect(transcript.get_by_text("Typed, then sent by keyboard", exact=True)).to_be_visible(
        timeout=LONG
    )
