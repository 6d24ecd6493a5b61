"""axe-core on every page but the room, at a laptop's and a phone's width, light and dark.

Each case opens one page as the browser that would see it, waits until the page shows what it
is for, and fails on any serious or critical violation (tests/browser/axe.py lists them).
The room's own check lives with the room's tests.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect

from tests.browser.axe import assert_accessible
from tests.browser.pages import LONG

if TYPE_CHECKING:  # the fixture's type (conftest modules are not imported by tests)
    from tests.browser.conftest import OwnedConversation

SIZES: dict[str, ViewportSize] = {
    "1280": {"width": 1280, "height": 800},
    "390": {"width": 390, "height": 844},
}
SCHEMES = ("light", "dark")


@dataclass(frozen=True)
class View:
    """A page as one browser sees it: whether it owns the conversation, where, when ready."""

    owner: bool
    path: Callable[[OwnedConversation], str]
    ready: Callable[[Page, OwnedConversation], None]


def _home_ready(page: Page, _: OwnedConversation) -> None:
    expect(page.locator("#mode-badge")).to_have_text("Sandbox", timeout=LONG)
    expect(page.get_by_role("combobox", name="Persona")).to_be_visible()


def _history_ready(page: Page, owned: OwnedConversation) -> None:
    table = page.get_by_role("region", name="Conversations")
    expect(table.locator(f"[data-conversation='{owned.conversation_id}']")).to_be_visible(
        timeout=LONG
    )


def _history_empty_ready(page: Page, _: OwnedConversation) -> None:
    expect(page.locator("#history-empty")).to_be_visible(timeout=LONG)


def _conversation_ready(page: Page, _: OwnedConversation) -> None:
    expect(page.get_by_role("log", name="Transcript")).to_be_visible(timeout=LONG)


def _not_yours_ready(page: Page, _: OwnedConversation) -> None:
    expect(page.get_by_role("alert")).to_contain_text("not yours", timeout=LONG)


def _not_found_ready(page: Page, _: OwnedConversation) -> None:
    expect(page.get_by_role("heading", level=1)).to_be_visible(timeout=LONG)


VIEWS = {
    "home": View(False, lambda _: "/", _home_ready),
    "history (empty)": View(False, lambda _: "/history", _history_empty_ready),
    "history": View(True, lambda _: "/history", _history_ready),
    "conversation": View(True, lambda c: f"/history/{c.conversation_id}", _conversation_ready),
    "conversation (not yours)": View(
        False, lambda c: f"/history/{c.conversation_id}", _not_yours_ready
    ),
    "404": View(False, lambda _: "/no/such/page", _not_found_ready),
}


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("name", VIEWS)
def test_page_has_no_serious_or_critical_axe_violations(
    browser: Browser,
    app_server,
    owned_conversation: OwnedConversation,
    name: str,
    size: str,
    scheme: str,
) -> None:
    view = VIEWS[name]
    context = browser.new_context(
        viewport=SIZES[size],
        color_scheme=scheme,  # type: ignore[arg-type]
        storage_state=owned_conversation.storage_state if view.owner else None,
    )
    try:
        page = context.new_page()
        page.goto(app_server.url + view.path(owned_conversation))
        view.ready(page, owned_conversation)
        assert_accessible(page, where=f"{name} ({scheme})")
    finally:
        context.close()
