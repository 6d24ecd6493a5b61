"""A backend killed mid-conversation (`kill -9` of its whole process group), then started again on
the same database: the conversation is recorded ended with a reason, and the tab shows it."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import psutil
import pytest
from playwright.sync_api import Page, expect

from cvi_app.live.reconcile import ALREADY_ENDED
from cvi_app.store import create_db_engine, get_conversation, session_scope
from cvi_app.store.models import Conversation
from tests.browser.pages import start_conversation
from tests.support.app_server import AppServer, private_web_dir, start_app_server
from tests.support.servers import free_port

LONG = 30_000
NAME = "Crash check"


def _stored(db_url: str, cid: str) -> Conversation:
    engine = create_db_engine(db_url)
    try:
        with session_scope(engine) as s:
            row = get_conversation(s, conversation_id=cid)
    finally:
        engine.dispose()
    assert row is not None
    return row


def _backend_listening_on(port: int) -> psutil.Process:
    """The process that accepts the app's connections: the real backend."""
    for conn in psutil.net_connections(kind="tcp"):
        if conn.status == psutil.CONN_LISTEN and conn.laddr.port == port and conn.pid:
            return psutil.Process(conn.pid)
    raise AssertionError(f"nothing listens on port {port}")


def _kill_backend(server: AppServer) -> None:
    """`kill -9` every process of the app's group, the listening backend among them."""
    backend = _backend_listening_on(server.port)
    assert os.getpgid(backend.pid) == server.pid, "the backend is not in the app's group"
    os.killpg(server.pid, signal.SIGKILL)
    backend.wait(timeout=30)
    assert not backend.is_running()


def test_a_conversation_a_killed_backend_left_is_ended_with_a_reason_after_a_restart(
    page: Page, tmp_path_factory: pytest.TempPathFactory, app_server: AppServer
) -> None:
    workdir: Path = tmp_path_factory.mktemp("crash")
    # In a private copy of the prepared `.web/` (which the session's `app_server` made): a build
    # in the project's own would replace the frontend under the session's running app.
    web = private_web_dir(workdir / "web")
    assert web is not None, ".web/ is not prepared"
    env = {"REFLEX_WEB_WORKDIR": str(web)}
    port = free_port()
    with start_app_server(workdir, port=port, extra_env=env) as server:
        cid = start_conversation(page, server.url, name=NAME)
        room_url = page.url
        _kill_backend(server)
    # What the crash leaves behind: a record that says active, with no end.
    left = _stored(server.db_url, cid)
    assert (left.status, left.ended_at) == ("active", None)

    with start_app_server(workdir, port=port, extra_env=env) as again:
        assert again.db_url == server.db_url
        deadline = time.monotonic() + 60
        while _stored(again.db_url, cid).status == "active" and time.monotonic() < deadline:
            time.sleep(0.25)
        row = _stored(again.db_url, cid)
        assert (row.status, row.shutdown_reason) == ("ended", ALREADY_ENDED)
        assert row.ended_at is not None

        # The tab that comes back (reloaded) sees it ended.
        page.goto(room_url)
        expect(page.locator("#room-status")).to_have_attribute("data-status", "ended", timeout=LONG)

        # History shows it ended, and why.
        page.goto(f"{again.url}/history")
        listed = page.get_by_label("Conversations").locator(f"[data-conversation='{cid}']")
        expect(listed).to_be_visible(timeout=LONG)
        expect(listed.get_by_text("ended", exact=True)).to_be_visible(timeout=LONG)
        listed.get_by_role("link", name=NAME).click()
        page.wait_for_url(f"**/history/{cid}", timeout=LONG)
        expect(page.locator("#shutdown-reason")).to_contain_text(ALREADY_ENDED, timeout=LONG)
