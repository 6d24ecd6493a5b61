"""Browser tests: the real app (production build, one port) driven by real Chromium."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, expect

from cvi_app.config import SANDBOX_API_PREFIX
from tests.browser.pages import LONG, start_conversation
from tests.support.app_server import SECRET_MARKERS, AppServer, start_app_server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # A test pattern and a beeping microphone for pages that ask (granted per context).
    "--use-fake-device-for-media-stream",
]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    """Launch Debian's Chromium (Playwright's own browser download does not work offline)."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make test`, which installs it")
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def app_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    """The whole app in sandbox mode on a free port, with its own fresh database."""
    with start_app_server(tmp_path_factory.mktemp("app")) as server:
        yield server


@dataclass(frozen=True)
class OwnedConversation:
    """A finished, unnamed conversation and the browser state (owner cookie) that owns it."""

    conversation_id: str
    storage_state: Path
    """Pass as `browser.new_context(storage_state=...)` to be the browser that started it."""


def _end_at_sandbox(app_server: AppServer, conversation_id: str) -> None:
    httpx.post(
        f"{app_server.url}{SANDBOX_API_PREFIX}/conversations/{conversation_id}/end",
        headers={"x-api-key": SECRET_MARKERS["CVI_SANDBOX_API_KEY"]},
        timeout=10,
    ).raise_for_status()


@pytest.fixture
def ended_afterwards(app_server: AppServer) -> Iterator[list[str]]:
    """Ids appended to this list are ended at the sandbox when the test ends.

    The sandbox holds few live conversations at once: a test that leaves one running takes a
    place from the tests after it.
    """
    ids: list[str] = []
    yield ids
    for conversation_id in ids:
        _end_at_sandbox(app_server, conversation_id)


@pytest.fixture(scope="session")
def owned_conversation(
    browser: Browser, app_server: AppServer, tmp_path_factory: pytest.TempPathFactory
) -> OwnedConversation:
    """A conversation started from the home page with the defaults, then ended at the API."""
    context = browser.new_context()
    try:
        page = context.new_page()
        cid = start_conversation(page, app_server.url)
        _end_at_sandbox(app_server, cid)
        page.goto(f"{app_server.url}/history")
        row = page.locator(f"[data-conversation='{cid}']")
        expect(row.get_by_text("ended", exact=True)).to_be_visible(timeout=LONG)
        state = tmp_path_factory.mktemp("owner") / "storage.json"
        context.storage_state(path=state)
    finally:
        context.close()
    return OwnedConversation(conversation_id=cid, storage_state=state)
