"""`make run-cluster`'s command, as a person runs it: two app processes on their own PostgreSQL,
Redis and sandbox service; a conversation started on one is shown and driven from the other;
Ctrl-C stops everything."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, expect

from tests.browser.pages import LONG, start_conversation
from tests.support.app_server import ROOT, AppServer
from tests.support.servers import free_port

UP_WITHIN_S = 900.0
"""Both processes build their frontend: minutes on a two-core machine."""
_APP_URL = re.compile(r"^App process (\d+): (\S+)$")


class ClusterCommand:
    """`python -m scripts.run_cluster` running, its output read line by line as it comes."""

    def __init__(self, data: Path, workers: int) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TAVUS_", "CVI_"))}
        env["CVI_SANDBOX_WORDS_PER_SECOND"] = "40"
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "scripts.run_cluster",
                "--workers",
                str(workers),
                "--port",
                str(free_port()),
                "--sandbox-port",
                str(free_port()),
                "--data-dir",
                str(data),
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_for_line(self, text: str, *, within: float) -> None:
        """Wait until the command prints `text`; fail with its output if it exits first."""
        deadline = time.monotonic() + within
        while text not in self.lines:
            if self.process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"run_cluster never said {text!r}:\n" + "\n".join(self.lines))
            time.sleep(0.5)

    def app_urls(self) -> dict[int, str]:
        """The URL each app process printed, by its number."""
        found = (_APP_URL.match(line) for line in self.lines)
        return {int(m.group(1)): m.group(2) for m in found if m}

    def interrupt(self, *, within: float = 120) -> int:
        """Ctrl-C, as a person stops it; its exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout=within)


@pytest.fixture
def cluster(app_server: AppServer) -> Iterator[ClusterCommand]:
    # `app_server` first: the command's processes build in copies of the `.web/` it prepared.
    # Not under pytest's own temporary folder: PostgreSQL runs as its own user, which must
    # reach its data folder, and pytest's is private to this one.
    data = Path(tempfile.mkdtemp(prefix="cvi-run-cluster-"))
    data.chmod(0o755)
    command = ClusterCommand(data, workers=2)
    try:
        yield command
    finally:
        if command.process.poll() is None:
            command.process.send_signal(signal.SIGINT)
            try:
                command.process.wait(timeout=120)
            except subprocess.TimeoutExpired:
                command.process.kill()
        shutil.rmtree(data, ignore_errors=True)


def test_run_cluster_serves_one_conversation_from_two_processes_and_stops_clean(
    browser: Browser, cluster: ClusterCommand
) -> None:
    cluster.wait_for_line("All running. Press Ctrl-C to stop.", within=UP_WITHIN_S)
    urls = cluster.app_urls()
    assert sorted(urls) == [1, 2]
    assert any(line.startswith("Sandbox service: http://") for line in cluster.lines)

    context = browser.new_context()
    try:
        first = context.new_page()
        cid = start_conversation(first, urls[1])
        # The same browser (its owner cookie verifies on every process) on the other process.
        second = context.new_page()
        second.goto(f"{urls[2]}/room/{cid}")
        expect(second.locator("#room-status")).to_have_attribute(
            "data-status", "live", timeout=LONG
        )
        transcript = second.get_by_role("log", name="Transcript")
        expect(transcript.locator("[data-role=replica]").first).to_be_visible(timeout=LONG)
        second.get_by_role("textbox", name="Message").fill("Echo from process two")
        second.get_by_role("button", name="Echo", exact=True).click()
        for page in (first, second):
            expect(
                page.get_by_role("log", name="Transcript").locator(
                    "[data-role=replica]", has_text="Echo from process two"
                )
            ).to_have_count(1, timeout=LONG)
        second.get_by_role("button", name="End conversation").click()
        expect(first.locator("#room-status")).to_have_attribute(
            "data-status", "ended", timeout=LONG
        )
    finally:
        context.close()

    assert cluster.interrupt() == 0
    assert cluster.lines[-1] == "Stopped."
    for url in urls.values():
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"{url}/ping", timeout=5)
