"""What the browser tests do on the app's pages, written once."""

from __future__ import annotations

import re
import subprocess

from playwright.sync_api import Page, expect

from tests.support.app_server import ROOT, VENV_BIN, AppServer

LONG = 30_000
"""Milliseconds to wait for something the app does over the network."""


def start_conversation(
    page: Page, url: str, *, persona: str | None = None, name: str | None = None
) -> str:
    """Start a sandbox conversation from the home page at `url`; return its id once live."""
    page.goto(url)
    expect(page.locator("#mode-badge")).to_have_text("Sandbox", timeout=LONG)
    if persona is not None:
        page.get_by_role("combobox", name="Persona").click()
        page.get_by_role("option", name=persona).click()
    if name is not None:
        page.get_by_role("textbox", name="Conversation name").fill(name)
    page.get_by_role("button", name="Start conversation").click()
    page.wait_for_url("**/room/**", timeout=LONG)
    expect(page.locator("#room-status")).to_have_attribute("data-status", "live", timeout=LONG)
    return page.url.rstrip("/").rsplit("/", 1)[-1]


def create_admin(server: AppServer, email: str, password: str) -> None:
    """Make an admin in a running app's database, as a newcomer would from the shell."""
    made = subprocess.run(
        [str(VENV_BIN / "python"), "-m", "cvi_app.accounts", "create-admin"]
        + ["--email", email, "--password-stdin"],
        input=password + "\n",
        env=server.env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert made.returncode == 0, made.stderr


def at_page(page: Page, path: str, query: str = "") -> None:
    """Wait until the page shows `path` (Reflex adds a trailing slash), with `query` if given."""
    pattern = re.escape(path) + "/?" + (r"\?" + re.escape(query) + "$" if query else r"(\?.*)?$")
    page.wait_for_url(re.compile(r"^https?://[^/]+" + pattern), timeout=LONG)


def sign_in(page: Page, url: str, email: str, password: str) -> None:
    """Fill in and send the sign-in form at `url` (a page that asks for it)."""
    page.goto(url)
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible(timeout=LONG)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def answer_one_turn_and_end(page: Page, text: str) -> None:
    """In a live room (or watch view) after the greeting: send `text` as a user turn, wait for
    the replica's answer to finish, then end the conversation and wait until it has ended."""
    page.get_by_role("textbox", name="Message").fill(text)
    page.get_by_role("button", name="Respond", exact=True).click()
    transcript = page.get_by_role("log", name="Transcript")
    expect(transcript.locator("[data-role=replica]")).to_have_count(2, timeout=LONG)
    expect(page.get_by_label("Replica speaking state")).to_have_attribute(
        "data-speaking", "false", timeout=LONG
    )
    page.get_by_role("button", name="End conversation").click()
    expect(page.locator("#room-status")).to_have_attribute("data-status", "ended", timeout=LONG)
