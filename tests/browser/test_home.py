import re

from playwright.sync_api import Page, expect

from cvi_app.access.owner_cookie import COOKIE_NAME
from cvi_app.sandbox.catalog import DEFAULT_PERSONA_ID, stock_personas, stock_replicas
from cvi_app.state.home_state import BOUNDS
from tests.browser.pages import start_conversation


def test_home_page_shows_title_and_sandbox_mode_badge(page: Page, app_server) -> None:
    page.goto(app_server.url)
    expect(page).to_have_title(re.compile("CVI Studio"))
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    badge = page.locator("#mode-badge")
    expect(badge).to_have_text("Sandbox", timeout=20_000)
    expect(badge).to_have_attribute("aria-label", "mode sandbox")


def test_every_tab_of_a_browser_controls_its_conversations(browser, app_server) -> None:
    context = browser.new_context()
    try:
        pages = [context.new_page() for _ in range(3)]
        for page in pages:
            page.goto(app_server.url, wait_until="commit")
        for page in pages:
            expect(page.locator("#mode-badge")).to_have_text("Sandbox", timeout=30_000)
        cookies = [c for c in context.cookies() if c["name"] == COOKIE_NAME]
        assert len(cookies) == 1 and len(cookies[0]["value"]) >= 32

        # A conversation started in one tab is this browser's in every other tab.
        pages[0].get_by_role("button", name="Start conversation").click()
        pages[0].wait_for_url("**/room/**", timeout=30_000)
        for page in pages[1:]:
            page.goto(pages[0].url)
            expect(page.locator("#room-status")).to_have_attribute(
                "data-status", "live", timeout=30_000
            )
            expect(page.get_by_role("button", name="Respond", exact=True)).to_be_visible()
    finally:
        context.close()


def _names() -> tuple[str, dict[str, str]]:
    """The sandbox's default persona's name, and each persona's default replica's name."""
    replicas = {r.replica_id: r.replica_name or "" for r in stock_replicas()}
    personas = {
        p.persona_name or "": replicas[p.default_replica_id or ""] for p in stock_personas()
    }
    default = next(
        p.persona_name or "" for p in stock_personas() if p.persona_id == DEFAULT_PERSONA_ID
    )
    return default, personas


def test_the_start_form_says_what_default_means_and_bounds_its_numbers(
    page: Page, app_server
) -> None:
    default, replica_of = _names()
    page.goto(app_server.url)
    persona = page.get_by_role("combobox", name="Persona")
    replica = page.get_by_role("combobox", name="Replica")
    expect(persona).to_have_text(f"Default ({default})", timeout=20_000)
    expect(replica).to_have_text(f"Default ({replica_of[default]}, the persona's)")

    # Choosing a persona: the replica's "Default" names that persona's replica.
    persona.click()
    page.get_by_role("option", name="Support Agent").click()
    expect(replica).to_have_text(f"Default ({replica_of['Support Agent']}, the persona's)")

    # The number inputs carry the bounds the server checks, and a start outside them is refused
    # with a sentence that gives the bounds.
    for label, field in [
        ("Max call duration (s)", "max_call_duration"),
        ("Ends after everyone left (s)", "participant_left_timeout"),
        ("Ends if nobody joins (s)", "participant_absent_timeout"),
    ]:
        low, high = BOUNDS[field]
        number = page.get_by_role("spinbutton", name=label)
        expect(number).to_have_attribute("min", str(low))
        expect(number).to_have_attribute("max", str(high))
    page.get_by_role("spinbutton", name="Max call duration (s)").fill("5")
    page.get_by_role("button", name="Start conversation").click()
    low, high = BOUNDS["max_call_duration"]
    refusal = f"greater than or equal to {low} and at most {high}."
    expect(page.get_by_text(refusal)).to_be_visible(timeout=20_000)
    expect(page).not_to_have_url(re.compile("/room/"))


def test_live_conversations_are_listed_by_title_with_persona_and_replica(
    page: Page, app_server, ended_afterwards: list[str]
) -> None:
    _, replica_of = _names()
    cid = start_conversation(page, app_server.url, persona="Support Agent")
    ended_afterwards.append(cid)
    page.goto(app_server.url)
    link = page.get_by_role("link", name="Conversation with " + replica_of["Support Agent"])
    expect(link).to_have_attribute("href", f"/room/{cid}", timeout=20_000)
    expect(page.get_by_role("main")).to_contain_text(
        f"Support Agent · {replica_of['Support Agent']}"
    )
