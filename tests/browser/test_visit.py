"""Public pages in Chromium: an operator makes one, a visitor with no account uses it.

The visitor's browser is a fresh context at phone size with Chromium's fake camera and
microphone granted (or withheld), as a customer opening a shared link would be.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.browser.axe import assert_accessible
from tests.browser.pages import LONG, at_page, start_conversation
from tests.browser.public_pages import DESKTOP, MEDIA, PHONE, HostPage, make_page
from tests.support.app_server import AppServer


@pytest.fixture
def visitor(browser: Browser) -> Iterator[BrowserContext]:
    """A fresh browser at phone size, camera and microphone allowed."""
    context = browser.new_context(viewport=PHONE, permissions=MEDIA)
    yield context
    context.close()


def _join(page: Page) -> None:
    page.get_by_role("button", name="Start").click()
    expect(page.get_by_role("status").filter(has_text="ready")).to_be_visible(timeout=LONG)
    page.get_by_role("button", name="Join the conversation").click()
    expect(page.get_by_role("region", name="Replica")).to_be_visible(timeout=LONG)
    expect(page.get_by_role("log", name="Captions")).not_to_be_empty(timeout=LONG)


def test_a_visitor_talks_to_the_replica_leaves_and_rates_it(
    page: Page, app_server: AppServer, visitor: BrowserContext
) -> None:
    make_page(
        page,
        app_server.url,
        title="Acme support",
        slug="acme-support",
        Introduction="Ask us anything about your order.",
    )
    guest = visitor.new_page()
    guest.goto(f"{app_server.url}/p/acme-support")
    expect(guest.get_by_role("heading", name="Acme support", level=1)).to_be_visible(timeout=LONG)
    expect(guest.get_by_text("Ask us anything about your order.")).to_be_visible()
    assert_accessible(guest)
    _join(guest)
    # No studio controls, no ids: only the call and Leave.
    for name in ("Respond", "Echo", "Interrupt", "End conversation"):
        expect(guest.get_by_role("button", name=name, exact=True)).to_have_count(0)
    assert "/room/" not in guest.content()
    guest.get_by_role("textbox", name="Say something").fill("Where is my parcel?")
    guest.get_by_role("button", name="Say").click()
    expect(
        guest.get_by_role("status").filter(has_text="You said: Where is my parcel?")
    ).to_be_visible()
    assert_accessible(guest)
    assert guest.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    guest.get_by_role("button", name="Leave").click()
    expect(guest.get_by_role("heading", name="Thank you for talking with us.")).to_be_visible(
        timeout=LONG
    )
    guest.get_by_role("button", name="Send").click()
    expect(guest.get_by_role("alert").filter(has_text="Choose from 1 to 5")).to_be_visible()
    guest.get_by_label("4", exact=True).check()
    guest.get_by_label("Anything to add? (optional)").fill("Quick and friendly.")
    assert_accessible(guest)
    guest.get_by_role("button", name="Send").click()
    expect(guest.get_by_role("heading", name="Thanks for your feedback.")).to_be_visible(
        timeout=LONG
    )

    # The operator finds it in the history, with its page and rating.
    page.goto(f"{app_server.url}/history")
    row = page.locator("[data-conversation]").filter(has_text="Acme support").first
    expect(row).to_be_visible(timeout=LONG)
    row.get_by_role("link").first.click()
    expect(page.get_by_text("Acme support", exact=False).first).to_be_visible(timeout=LONG)
    expect(page.get_by_text("Rated 4 of 5: Quick and friendly.")).to_be_visible(timeout=LONG)


def test_a_full_page_says_so_in_a_friendly_sentence(
    page: Page, app_server: AppServer, browser: Browser
) -> None:
    make_page(
        page, app_server.url, title="Tiny desk", slug="tiny-desk", **{"Conversations at once": "1"}
    )
    first = browser.new_context(viewport=PHONE, permissions=MEDIA)
    second = browser.new_context(viewport=PHONE, permissions=MEDIA)
    try:
        one = first.new_page()
        one.goto(f"{app_server.url}/p/tiny-desk")
        _join(one)
        two = second.new_page()
        two.goto(f"{app_server.url}/p/tiny-desk")
        two.get_by_role("button", name="Start").click()
        two.get_by_role("button", name="Join the conversation").click()
        expect(two.get_by_role("alert")).to_have_text(
            "All our agents are busy, please try again in a minute.", timeout=LONG
        )
        expect(two.get_by_role("button", name="Start")).to_be_visible()
        one.get_by_role("button", name="Leave").click()
        expect(one.get_by_role("heading", name="Thank you for talking with us.")).to_be_visible(
            timeout=LONG
        )
    finally:
        first.close()
        second.close()


def test_blocked_camera_and_microphone_get_plain_help_and_typing_still_works(
    page: Page, app_server: AppServer, browser: Browser
) -> None:
    make_page(page, app_server.url, title="No devices", slug="no-devices")
    context = browser.new_context(viewport=PHONE)  # nothing granted: the browser refuses
    try:
        guest = context.new_page()
        guest.goto(f"{app_server.url}/p/no-devices")
        guest.get_by_role("button", name="Start").click()
        expect(guest.get_by_role("status").filter(has_text="blocking the camera")).to_be_visible(
            timeout=LONG
        )
        expect(guest.get_by_role("button", name="Try again")).to_be_visible()
        assert_accessible(guest)
        guest.get_by_role("button", name="Join the conversation").click()
        expect(guest.get_by_role("textbox", name="Say something")).to_be_visible(timeout=LONG)
        guest.get_by_role("button", name="Leave").click()
        expect(guest.get_by_role("heading", name="Thank you for talking with us.")).to_be_visible(
            timeout=LONG
        )
    finally:
        context.close()


def test_an_access_code_page_lets_in_only_with_the_code(
    page: Page, app_server: AppServer, visitor: BrowserContext
) -> None:
    page.goto(f"{app_server.url}/deployments")
    page.get_by_role("button", name="New page").click()
    form = page.get_by_role("form", name="Page settings")
    form.get_by_label("Title", exact=True).fill("Members")
    form.get_by_label("Address", exact=True).fill("members")
    form.get_by_label("An access code").check()
    form.get_by_role("button", name="Save page").click()
    expect(form.get_by_role("alert")).to_contain_text("Access code: choose the code")
    form.get_by_label("Access code", exact=True).fill("open sesame")
    form.get_by_role("button", name="Save page").click()
    expect(page.locator("[data-page='members']")).to_be_visible(timeout=LONG)

    guest = visitor.new_page()
    guest.goto(f"{app_server.url}/p/members")
    code = guest.get_by_label("Access code", exact=True)
    code.fill("wrong")
    code.press("Enter")
    expect(guest.get_by_role("alert")).to_have_text(
        "That code is not right. Check it and try again.", timeout=LONG
    )
    code.fill("open sesame")
    code.press("Enter")
    expect(guest.get_by_role("button", name="Start")).to_be_visible(timeout=LONG)


def test_a_signed_link_page_opens_with_its_link_only(
    page: Page, app_server: AppServer, visitor: BrowserContext
) -> None:
    make_page(
        page, app_server.url, title="Invited", slug="invited", access="Signed links that expire"
    )
    page.locator("[data-page='invited']").get_by_role("button", name="Make a link").click()
    link = page.get_by_label("Signed link").inner_text(timeout=LONG).strip()
    assert re.search(r"/p/invited\?k=", link)

    guest = visitor.new_page()
    guest.goto(f"{app_server.url}/p/invited")
    expect(guest.get_by_text("This link is not valid.")).to_be_visible(timeout=LONG)
    guest.goto(link[:-3] + ("aaa" if not link.endswith("aaa") else "bbb"))
    expect(guest.get_by_text("This link is not valid.")).to_be_visible(timeout=LONG)
    other = visitor.new_page()
    other.goto(link)
    expect(other.get_by_role("button", name="Start")).to_be_visible(timeout=LONG)


def test_an_embedded_page_works_on_an_allowed_site_and_tells_it_what_happens(
    page: Page, app_server: AppServer, browser: Browser
) -> None:
    frame_url = f"{app_server.url}/p/embedded?embed=1"
    allowed, refused = HostPage(frame_url), HostPage(frame_url)
    try:
        make_page(
            page,
            app_server.url,
            title="Embedded",
            slug="embedded",
            **{"Sites that may embed the page": allowed.origin},
        )
        context = browser.new_context(viewport=DESKTOP, permissions=MEDIA)
        host = context.new_page()
        host.goto(allowed.origin)
        frame = host.frame_locator("#cvi")
        frame.get_by_role("button", name="Start").click(timeout=LONG)
        frame.get_by_role("button", name="Join the conversation").click(timeout=LONG)
        events = host.get_by_role("list", name="Host events")
        expect(events).to_contain_text("cvi.conversation_started", timeout=LONG)
        frame.get_by_role("textbox", name="Say something").fill("Do you ship abroad?")
        frame.get_by_role("button", name="Say").click()
        expect(events).to_contain_text("cvi.replica_started_speaking", timeout=LONG)
        frame.get_by_role("button", name="Leave").click()
        expect(events).to_contain_text("cvi.conversation_ended", timeout=LONG)

        blocked = context.new_page()
        response = {}
        blocked.on(
            "response",
            lambda r: (
                response.setdefault("csp", r.headers.get("content-security-policy", ""))
                if "/p/embedded" in r.url
                else None
            ),
        )
        blocked.goto(refused.origin)
        blocked.wait_for_timeout(2000)
        frame_page = next(f for f in blocked.frames if f is not blocked.main_frame)
        # The browser refused to show it: an error page in its place, no page of ours.
        assert not frame_page.url.startswith(app_server.url)
        assert frame_page.get_by_role("button", name="Start").count() == 0
        assert allowed.origin in response["csp"] and refused.origin not in response["csp"]
        context.close()
    finally:
        allowed.close()
        refused.close()


def test_the_public_pages_studio_list_works_at_phone_size(
    page: Page, app_server: AppServer
) -> None:
    page.set_viewport_size(PHONE)
    page.goto(f"{app_server.url}/deployments")
    at_page(page, "/deployments")
    page.get_by_role("button", name="New page").click()
    expect(page.get_by_role("form", name="Page settings")).to_be_visible(timeout=LONG)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert_accessible(page)


def test_a_guest_link_admits_one_more_person_as_a_participant(
    page: Page, app_server: AppServer, browser: Browser, ended_afterwards: list[str]
) -> None:
    ended_afterwards.append(start_conversation(page, app_server.url))
    page.get_by_role("button", name="Invite").click()
    link = page.get_by_label("Invitation link").inner_text(timeout=LONG).strip()
    assert "/guest?invite=" in link

    first = browser.new_context(viewport=PHONE, permissions=MEDIA)
    second = browser.new_context(viewport=PHONE, permissions=MEDIA)
    try:
        guest = first.new_page()
        guest.goto(link)
        guest.get_by_role("button", name="Join the call").click(timeout=LONG)
        expect(guest.get_by_role("region", name="Replica")).to_be_visible(timeout=LONG)
        for name in ("Respond", "Echo", "Interrupt", "End conversation", "Invite"):
            expect(guest.get_by_role("button", name=name, exact=True)).to_have_count(0)
        # The room shows the guest among the people in the call.
        expect(page.get_by_text("Guest").first).to_be_visible(timeout=LONG)
        assert_accessible(guest)

        other = second.new_page()
        other.goto(link)
        expect(other.get_by_text("Someone has already joined with this invitation.")).to_be_visible(
            timeout=LONG
        )
        other.goto(link[:-3] + ("aaa" if not link.endswith("aaa") else "bbb"))
        expect(other.get_by_text("This link is not valid.")).to_be_visible(timeout=LONG)
        guest.get_by_role("button", name="Leave").click()
        expect(guest.get_by_text("You left the call.")).to_be_visible(timeout=LONG)
    finally:
        first.close()
        second.close()
