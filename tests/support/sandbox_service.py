"""The sandbox service as app processes reach it: `python -m cvi_app.sandbox` in a subprocess
on a free 127.0.0.1 port, started fresh from the repo with no `TAVUS_*`/`CVI_*` of the test run."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.support.servers import WAIT, free_port

__all__ = ["SERVICE_KEY", "SandboxService", "run_sandbox_service"]

ROOT = Path(__file__).resolve().parents[2]
SERVICE_KEY = "service-tests-key"
"""The API key a service started by `run_sandbox_service` accepts (unless told otherwise)."""
STARTUP = 60.0
"""Seconds the service may take to answer: a fresh interpreter imports the whole sandbox."""
_RUNNING = re.compile(r"^Sandbox service running at (\S+) ", re.MULTILINE)


@dataclass
class SandboxService:
    """A running sandbox service: the URL it printed, its key, its process and its output."""

    url: str
    api_key: str
    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        """Everything the service printed so far (stdout and stderr)."""
        return self.log.read_text()

    def stop(self, how: signal.Signals = signal.SIGTERM, *, within: float = WAIT) -> int:
        """Send `how` and wait for the process to exit; return its exit status."""
        if self.process.poll() is None:
            self.process.send_signal(how)
        return self.process.wait(timeout=within)


@contextlib.contextmanager
def run_sandbox_service(
    log_dir: Path,
    *args: str,
    port: int | None = None,
    api_key: str = SERVICE_KEY,
    words_per_second: float = 1000.0,
) -> Iterator[SandboxService]:
    """Run the service for the block, once it has said where it answers; stop it afterwards.

    Args:
        log_dir: Where its output is kept (`sandbox-<port>.log`).
        *args: More command-line options.
        port: The port to listen on (a free one when None).
        api_key: The only key it accepts.
        words_per_second: How fast its replicas speak (fast, for tests).
    """
    port = port or free_port()
    log = log_dir / f"sandbox-{port}.log"
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("TAVUS_", "CVI_"))}
    command = [
        sys.executable,
        "-m",
        "cvi_app.sandbox",
        "--port",
        str(port),
        "--api-key",
        api_key,
        "--words-per-second",
        str(words_per_second),
        *args,
    ]
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, cwd=ROOT, env=clean, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        yield SandboxService(_url_once_up(process, log), api_key, process, log)
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=WAIT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _url_once_up(process: subprocess.Popen[bytes], log: Path) -> str:
    deadline = time.monotonic() + STARTUP
    while not (found := _RUNNING.search(log.read_text())):
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the sandbox service did not start:\n{log.read_text()}")
        time.sleep(0.05)
    return found.group(1)
