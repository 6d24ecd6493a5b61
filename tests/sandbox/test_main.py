"""`python -m cvi_app.sandbox` runs the sandbox as its own server process."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.servers import WAIT, free_port

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def sandbox_process(tmp_path: Path) -> Iterator[str]:
    port = free_port()
    log = (tmp_path / "sandbox.log").open("w")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TAVUS_", "CVI_"))}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cvi_app.sandbox",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--api-key",
            "cli-key",
            "--words-per-second",
            "50",
            "--twins",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=WAIT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def get_when_up(url: str, **kwargs: object) -> httpx.Response:
    deadline = time.monotonic() + 30
    while True:
        try:
            return httpx.get(url, timeout=5, **kwargs)  # type: ignore[arg-type]
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def test_sandbox_server_answers_replicas_with_the_api_key(sandbox_process: str) -> None:
    response = get_when_up(f"{sandbox_process}/v2/replicas", headers={"x-api-key": "cli-key"})
    assert response.status_code == 200
    body = response.json()
    assert body["total_count"] >= 1 and body["data"][0]["replica_id"]
    wrong = httpx.get(f"{sandbox_process}/v2/replicas", headers={"x-api-key": "nope"})
    assert wrong.status_code == 401
