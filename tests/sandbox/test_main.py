"""`python -m cvi_app.sandbox` runs the sandbox as its own server process, with a key it prints."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.servers import WAIT, free_port

ROOT = Path(__file__).resolve().parents[2]
KEY_LINE = re.compile(r"^Sandbox API key: (\S+)$", re.MULTILINE)


class SandboxProcess:
    """A running `python -m cvi_app.sandbox` and what it printed."""

    def __init__(self, url: str, log: Path) -> None:
        self.url = url
        self.log = log

    def printed_key(self) -> str:
        deadline = time.monotonic() + 30
        while not (found := KEY_LINE.findall(self.log.read_text())):
            assert time.monotonic() < deadline, self.log.read_text()
            time.sleep(0.05)
        assert len(found) == 1, "the key is printed once"
        return str(found[0])


@pytest.fixture
def run_sandbox(tmp_path: Path) -> Iterator[Callable[..., SandboxProcess]]:
    processes: list[subprocess.Popen[bytes]] = []

    def run(*args: str, env: dict[str, str] | None = None) -> SandboxProcess:
        port = free_port()
        log_path = tmp_path / f"sandbox-{port}.log"
        clean = {k: v for k, v in os.environ.items() if not k.startswith(("TAVUS_", "CVI_"))}
        with log_path.open("w") as log:
            processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "cvi_app.sandbox", "--port", str(port), *args],
                    cwd=ROOT,
                    env={**clean, **(env or {})},
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
        return SandboxProcess(f"http://127.0.0.1:{port}", log_path)

    yield run
    for process in processes:
        process.terminate()
        try:
            process.wait(timeout=WAIT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def get_when_up(url: str, **kwargs: object) -> httpx.Response:
    deadline = time.monotonic() + 30
    while True:
        try:
            return httpx.get(url, timeout=5, **kwargs)  # type: ignore[arg-type]
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def status_with(url: str, headers: dict[str, str]) -> int:
    return get_when_up(f"{url}/v2/replicas", headers=headers).status_code


def test_sandbox_server_answers_replicas_with_the_api_key(
    run_sandbox: Callable[..., SandboxProcess],
) -> None:
    sandbox = run_sandbox("--api-key", "cli-key", "--words-per-second", "50", "--twins")
    response = get_when_up(f"{sandbox.url}/v2/replicas", headers={"x-api-key": "cli-key"})
    assert response.status_code == 200
    body = response.json()
    assert body["total_count"] >= 1 and body["data"][0]["replica_id"]
    assert status_with(sandbox.url, {"x-api-key": "nope"}) == 401
    assert sandbox.printed_key() == "cli-key"


def test_without_a_key_it_makes_one_prints_it_and_accepts_only_that(
    run_sandbox: Callable[..., SandboxProcess],
) -> None:
    first = run_sandbox()
    second = run_sandbox()
    key = first.printed_key()
    assert len(key) >= 32
    assert second.printed_key() != key
    assert status_with(first.url, {"x-api-key": key}) == 200
    for headers in ({}, {"x-api-key": ""}, {"x-api-key": "any-key"}, {"x-api-key": key[:-1]}):
        assert status_with(first.url, headers) == 401


def test_the_configured_key_is_honoured_and_printed(
    run_sandbox: Callable[..., SandboxProcess],
) -> None:
    sandbox = run_sandbox(env={"CVI_SANDBOX_API_KEY": "env-key-123"})
    assert sandbox.printed_key() == "env-key-123"
    assert status_with(sandbox.url, {"x-api-key": "env-key-123"}) == 200
    assert status_with(sandbox.url, {"x-api-key": "other"}) == 401


def test_a_blank_key_on_the_command_line_is_refused(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "cvi_app.sandbox", "--api-key", "  "],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "--api-key" in result.stderr
