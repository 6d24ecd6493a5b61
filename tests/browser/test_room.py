"""A whole sandbox conversation in Chromium: start, talk, interrupt, echo, tools, end."""

import json
import re

import httpx
from playwright.sync_api import Browser, Page, WebSocketRoute, expect

from tests.browser.pages import start_conversation
from tests.support.app_server import SECRET_MARKERS

LONG = 30_000


def test_sandbox_conversation_end_to_end(page: Page, app_server) -> None:
    start_conversation(page, app_server.url)
    transcript = page.get_by_role("log", name="Transcript")
    events = page.get_by_role("log", name="Events")

    # The replica greets as soon as it joins.
    expect(transcript.locator("[data-role=replica]").first).to_be_visible(timeout=LONG)

    message = page.get_by_role("textbox", name="Message")
    message.fill("What plans do you offer?")
    page.get_by_role("button", name="Respond", exact=True).click()
    expect(
        transcript.locator("[data-role=user]", has_text="What plans do you offer?")
    ).to_be_visible(timeout=LONG)
    replica_state = page.get_by_label("Replica speaking state")
    expect(replica_state).to_have_attribute("data-speaking", "true", timeout=LONG)
    expect(replica_state).to_have_attribute("data-speaking", "false", timeout=LONG)
    expect(events.locator("[data-type='conversation.utterance']").first).to_be_attached()

    # Interrupt a long reply.
    message.fill("Tell me a long story")
    page.get_by_role("button", name="Respond", exact=True).click()
    expect(replica_state).to_have_attribute("data-speaking", "true", timeout=LONG)
    page.get_by_role("button", name="Interrupt", exact=True).click()
    expect(transcript.locator("[data-interrupted=true]").first).to_be_visible(timeout=LONG)

    # Echo: the exact text is spoken as the replica's line.
    message.fill("This is an exact echo.")
    page.get_by_role("button", name="Echo", exact=True).click()
    expect(
        transcript.locator("[data-role=replica]", has_text="This is an exact echo.").first
    ).to_be_visible(timeout=LONG)

    page.get_by_role("button", name="End conversation").click()
    expect(page.locator("#room-status")).to_have_attribute("data-status", "ended", timeout=LONG)


def test_tool_call_is_answered_by_the_builtin_tool_and_spoken(page: Page, app_server) -> None:
    start_conversation(page, app_server.url, persona="Support Agent")
    transcript = page.get_by_role("log", name="Transcript")
    page.get_by_role("textbox", name="Message").fill("What is the weather in Paris?")
    page.get_by_role("button", name="Respond", exact=True).click()
    tools = page.get_by_label("Tool calls")
    expect(tools.get_by_text("get_weather")).to_be_visible(timeout=LONG)
    expect(tools.get_by_text("success")).to_be_visible(timeout=LONG)
    expect(tools.get_by_text('{"city": "Paris"}', exact=True)).to_be_visible()
    expect(transcript.locator("[data-role=replica]", has_text="Paris").last).to_be_visible(
        timeout=LONG
    )
    page.get_by_role("button", name="End conversation").click()
    expect(page.locator("#room-status")).to_have_attribute("data-status", "ended", timeout=LONG)


def test_another_browser_cannot_see_or_control_a_conversation(
    page: Page, browser: Browser, app_server
) -> None:
    cid = start_conversation(page, app_server.url)
    other = browser.new_context()
    try:
        stranger = other.new_page()
        stranger.goto(f"{app_server.url}/room/{cid}")
        expect(stranger.get_by_role("alert")).to_contain_text(
            "No conversation with this id", timeout=LONG
        )
        expect(stranger.get_by_role("button", name="Respond", exact=True)).to_have_count(0)
    finally:
        other.close()


def _wav(path, seconds: float = 0.5, rate: int = 16000) -> None:
    import math
    import struct
    import wave

    frames = b"".join(
        struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * i / rate)))
        for i in range(int(seconds * rate))
    )
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(frames)


def test_uploaded_wav_is_echoed_as_audio(page: Page, app_server, tmp_path) -> None:
    frames: list[str] = []
    page.on(
        "websocket",
        lambda ws: (
            "/_event" in ws.url  # the app's socket (the call frame's room socket hears it)
            and ws.on("framereceived", lambda p: frames.append(str(p)))
        ),
    )
    start_conversation(page, app_server.url)
    wav = tmp_path / "hello.wav"
    _wav(wav)
    page.locator("#echo-audio input[type=file]").set_input_files(str(wav))
    page.get_by_role("button", name="Echo audio").click()
    transcript = page.get_by_role("log", name="Transcript")
    expect(transcript.locator("[data-role=replica]", has_text="[audio echo, 0.5 s]")).to_have_count(
        1, timeout=LONG
    )
    events = page.get_by_role("log", name="Events")
    expect(events.get_by_text("audio echo, 0.5 s")).to_have_count(1, timeout=LONG)
    # The tab is told that audio was echoed, not sent the audio itself.
    assert not [f for f in frames if '\\"audio\\":\\"' in f or '"audio":"' in f]


def test_bad_start_option_is_refused_with_a_message(page: Page, app_server) -> None:
    page.goto(app_server.url)
    expect(page.locator("#mode-badge")).to_have_text("Sandbox", timeout=LONG)
    duration = page.get_by_label("Max call duration (s)")
    duration.fill("5")
    duration.press("Tab")
    expect(duration).to_have_value("5")
    page.get_by_role("button", name="Start conversation").click()
    expect(page.get_by_text("greater than or equal to 10")).to_be_visible(timeout=LONG)
    expect(page).not_to_have_url(re.compile(r"/room/"))


def test_reloading_a_room_restores_its_transcript_and_keeps_it_live(page: Page, app_server) -> None:
    start_conversation(page, app_server.url)
    page.get_by_role("textbox", name="Message").fill("Remember this line")
    page.get_by_role("button", name="Respond", exact=True).click()
    transcript = page.get_by_role("log", name="Transcript")
    expect(transcript.get_by_text("Remember this line", exact=True)).to_be_visible(timeout=LONG)

    page.reload()
    expect(page.locator("#room-status")).to_have_attribute("data-status", "live", timeout=LONG)
    transcript = page.get_by_role("log", name="Transcript")
    expect(transcript.get_by_text("Remember this line", exact=True)).to_be_visible(timeout=LONG)
    page.get_by_role("textbox", name="Message").fill("And after the reload")
    page.get_by_role("button", name="Respond", exact=True).click()
    expect(transcript.get_by_text("And after the reload", exact=True)).to_be_visible(timeout=LONG)


def _without_transcript_history(frame: str) -> str | None:
    """The socket.io frame with the transcript's history dropped, or None if it has none."""
    head, sep, body = frame.partition(",")
    if not head.startswith("42/_event") or not sep:
        return None
    message = json.loads(body)
    for delta in (message[1].get("delta") or {}).values() if len(message) > 1 else []:
        feed = delta.get("transcript_rx_state_")
        if feed and feed.get("items"):
            feed["items"] = []
            return f"{head},{json.dumps(message)}"
    return None


def test_the_transcript_recovers_when_the_browser_never_renders_its_history(
    page: Page, app_server
) -> None:
    """React can render two deltas as one: a reset's history, then an update without it."""
    start_conversation(page, app_server.url)
    page.get_by_role("textbox", name="Message").fill("Remember this line")
    page.get_by_role("button", name="Respond", exact=True).click()
    transcript = page.get_by_role("log", name="Transcript")
    expect(transcript.get_by_text("Remember this line", exact=True)).to_be_visible(timeout=LONG)

    dropped: list[str] = []

    def drop_the_first_history(ws: WebSocketRoute) -> None:
        server = ws.connect_to_server()

        def from_server(frame: str | bytes) -> None:
            if isinstance(frame, str) and not dropped:
                changed = _without_transcript_history(frame)
                if changed is not None:
                    dropped.append(frame)
                    frame = changed
            ws.send(frame)

        server.on_message(from_server)

    page.route_web_socket(re.compile(r".*/_event.*"), drop_the_first_history)
    page.reload()
    transcript = page.get_by_role("log", name="Transcript")
    expect(transcript.get_by_text("Remember this line", exact=True)).to_be_visible(timeout=LONG)
    assert dropped, "the test dropped the transcript's history once"


def test_a_tool_no_builtin_handles_is_answered_by_hand(page: Page, app_server) -> None:
    persona: dict = {
        "persona_name": "Inventory Clerk",
        "system_prompt": "You check stock levels.",
        "layers": {
            "llm": {
                "tools": [
                    {
                        "type": "function",
                        "function": {
                            "name": "check_inventory",
                            "description": "How many of an item are in stock.",
                            "parameters": {"type": "object", "properties": {}},
                        },
                    }
                ]
            }
        },
    }
    api = httpx.Client(
        base_url=f"{app_server.url}/sandbox/v2",
        headers={"x-api-key": SECRET_MARKERS["CVI_SANDBOX_API_KEY"]},
        timeout=10,
    )
    with api:
        replicas = api.get("/replicas").raise_for_status().json()["data"]
        persona["default_replica_id"] = replicas[0]["replica_id"]
        api.post("/personas", json=persona).raise_for_status()
    start_conversation(page, app_server.url, persona="Inventory Clerk")

    page.get_by_role("textbox", name="Message").fill("Please check inventory for widgets")
    page.get_by_role("button", name="Respond", exact=True).click()
    tools = page.get_by_label("Tool calls")
    expect(tools.get_by_text("check_inventory")).to_be_visible(timeout=LONG)
    expect(tools.get_by_text("unhandled")).to_be_visible()

    page.get_by_role("textbox", name="Tool result").fill("42 widgets in stock")
    page.get_by_role("button", name=re.compile("Send result to")).click()
    expect(tools.get_by_text("success")).to_be_visible(timeout=LONG)
    transcript = page.get_by_role("log", name="Transcript")
    expect(transcript.locator("[data-role=replica]", has_text="42 widgets").last).to_be_visible(
        timeout=LONG
    )


def _sent_count(app_server, cid: str, text: str) -> int:
    from sqlalchemy import create_engine
    from sqlalchemy import text as sql

    engine = create_engine(app_server.db_url)
    try:
        with engine.connect() as connection:
            return connection.execute(
                sql(
                    "SELECT count(*) FROM conversation_event WHERE conversation_id = :cid "
                    "AND source = 'app' AND text = :text"
                ),
                {"cid": cid, "text": text},
            ).scalar_one()
    finally:
        engine.dispose()


def test_a_double_click_sends_once(page: Page, app_server) -> None:
    cid = start_conversation(page, app_server.url)
    page.get_by_role("textbox", name="Message").fill("Only once, please")
    page.get_by_role("button", name="Respond", exact=True).dblclick()
    transcript = page.get_by_role("log", name="Transcript")
    expect(transcript.get_by_text("Only once, please", exact=True)).to_be_visible(timeout=LONG)
    replica_state = page.get_by_label("Replica speaking state")
    expect(replica_state).to_have_attribute("data-speaking", "false", timeout=LONG)
    page.wait_for_timeout(1000)
    expect(transcript.get_by_text("Only once, please", exact=True)).to_have_count(1)
    assert _sent_count(app_server, cid, "Only once, please") == 1
    # The box is empty after the send: Respond waits for the next words.
    respond = page.get_by_role("button", name="Respond", exact=True)
    expect(respond).to_be_disabled()
    page.get_by_role("textbox", name="Message").fill("And the next")
    expect(respond).to_be_enabled()


def test_a_room_no_longer_live_shows_the_stored_status_and_reason(page: Page, app_server) -> None:
    start_conversation(page, app_server.url)
    page.get_by_role("button", name="End conversation").click()
    expect(page.locator("#room-status")).to_have_attribute("data-status", "ended", timeout=LONG)
    page.reload()
    expect(page.locator("#room-status")).to_have_attribute("data-status", "ended", timeout=LONG)
    # The reason in words; its code stays in the Events panel and the store.
    expect(page.locator("#room-end-reason")).to_have_text(
        "The conversation was ended.", timeout=LONG
    )
    expect(page.get_by_role("link", name="View in history")).to_have_attribute(
        "href", re.compile(r"/history/.+")
    )
    page.get_by_role("link", name="Start a new conversation").click()
    page.wait_for_url(app_server.url.rstrip("/") + "/", timeout=LONG)
