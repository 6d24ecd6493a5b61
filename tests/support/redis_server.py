"""A real, throwaway Redis server for tests.

`running_redis()` runs Debian's `/usr/bin/redis-server` (installed by `scripts/system-deps`) on a
free 127.0.0.1 port with no persistence of its own (`--save '' --appendonly no`) and its files
in a temporary directory, waits until it answers PING, and stops it at the end.

Suites use the session fixture `redis_server` (loaded for every test by `tests/conftest.py`);
each test keeps to its own keys (a fresh stream name), so they can share one server. A test can
stop the server and start it again on the same port (`stop()` / `start()`): kept data is written
to an RDB file on the way down (`SHUTDOWN SAVE`, as a Redis with persistence would keep it), or
the server is killed and its data lost (a crash of a Redis without persistence).

If the server cannot start, the tests that need it fail with the reason; they are skipped only
when CVI_SKIP_REDIS=1. CVI_REDIS_SERVER may name the binary.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from tests.support.servers import free_port

__all__ = ["RedisServer", "RedisUnavailable", "redis_server", "running_redis"]

DEFAULT_BINARY = "/usr/bin/redis-server"
START_TIMEOUT_S = 20.0
STOP_TIMEOUT_S = 20.0


class RedisUnavailable(RuntimeError):
    """The server could not be started; the message says why and how to fix it."""


class RedisServer:
    """One redis-server process on a fixed port, which a test may stop and start again."""

    def __init__(self, binary: str, root: Path) -> None:
        self.binary = binary
        self.root = root
        self.host = "127.0.0.1"
        self.port = free_port()
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The server's URL, as `REFLEX_REDIS_URL` would name it."""
        return f"redis://{self.host}:{self.port}/0"

    @property
    def running(self) -> bool:
        """Whether the server process is alive."""
        return self._process is not None and self._process.poll() is None

    def client(self) -> redis.Redis:
        """A plain synchronous client, for a test to look at what the server holds."""
        # No retries inside the client: a refused connection says "down" at once.
        return redis.Redis(
            host=self.host, port=self.port, socket_timeout=5, retry=Retry(NoBackoff(), 0)
        )

    def start(self) -> None:
        """Start the server (on the same port as before) and wait until it answers PING.

        An RDB file left by `stop(keep_data=True)` is loaded.

        Raises:
            RedisUnavailable: It did not start in time (the log's tail says why).
        """
        if self.running:
            return
        log = self.root / "redis.log"
        self._process = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                self.host,
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.root),
                "--logfile",
                str(log),
                "--daemonize",
                "no",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if self._process.poll() is not None:
                stderr = _read_all(self._process.stderr)
                raise RedisUnavailable(
                    f"redis-server exited with {self._process.returncode}: "
                    f"{stderr.strip() or _log_tail(log)}"
                )
            if self._answers():
                return
            if time.monotonic() > deadline:
                self._kill()
                raise RedisUnavailable(f"redis-server did not answer PING: {_log_tail(log)}")
            time.sleep(0.02)

    def stop(self, *, keep_data: bool = True) -> None:
        """Stop the server.

        Args:
            keep_data: True: a clean shutdown that saves the data, so `start()` brings it back
                (a restart of a Redis with persistence). False: the process is killed and its
                data is gone (a crash of a Redis without persistence).
        """
        if not self.running:
            return
        if keep_data:
            with contextlib.suppress(redis.ConnectionError):
                self.client().shutdown(save=True)
            assert self._process is not None
            self._process.wait(timeout=STOP_TIMEOUT_S)
        else:
            self._kill()
            (self.root / "dump.rdb").unlink(missing_ok=True)

    def _kill(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.send_signal(signal.SIGKILL)
            self._process.wait(timeout=STOP_TIMEOUT_S)
        if self._process is not None and self._process.stderr is not None:
            self._process.stderr.close()

    def close(self) -> None:
        """Stop the server for good, without saving anything."""
        self._kill()

    def _answers(self) -> bool:
        try:
            with self.client() as client:
                return bool(client.ping())
        except (redis.ConnectionError, redis.TimeoutError, redis.ResponseError):
            # ResponseError: LOADING, while it reads its RDB file back.
            return False


def _read_all(stream: IO[bytes] | None) -> str:
    return stream.read().decode(errors="replace") if stream is not None else ""


def _log_tail(log: Path) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-15:])
    except OSError:
        return "(no server log)"


def find_binary() -> str:
    """The redis-server binary (CVI_REDIS_SERVER, else Debian's, else the one on PATH).

    Raises:
        RedisUnavailable: None is installed.
    """
    explicit = os.environ.get("CVI_REDIS_SERVER")
    if explicit:
        if not Path(explicit).is_file():
            raise RedisUnavailable(f"CVI_REDIS_SERVER={explicit} is not a file")
        return explicit
    if Path(DEFAULT_BINARY).is_file():
        return DEFAULT_BINARY
    found = shutil.which("redis-server")
    if found:
        return found
    raise RedisUnavailable(
        "redis-server not found: install it with `apt-get install -y redis-server` "
        "(scripts/system-deps does)"
    )


@contextlib.contextmanager
def running_redis(parent: Path | None = None) -> Iterator[RedisServer]:
    """Start a throwaway server; stop it and delete its files when the block ends.

    Args:
        parent: The folder its files go in (a new one inside); the system's temporary folder
            when None.

    Raises:
        RedisUnavailable: The binary is missing or the server did not start.
    """
    binary = find_binary()
    root = Path(tempfile.mkdtemp(prefix="cvi-redis-", dir=parent))
    server = RedisServer(binary, root)
    try:
        server.start()
        yield server
    finally:
        server.close()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """A Redis server for the whole test session (skipped only when CVI_SKIP_REDIS=1)."""
    if os.environ.get("CVI_SKIP_REDIS") == "1":
        pytest.skip("CVI_SKIP_REDIS=1")
    with contextlib.ExitStack() as stack:
        try:
            server = stack.enter_context(running_redis())
        except RedisUnavailable as exc:
            pytest.fail(f"Redis is needed for this test and could not be started: {exc}")
        yield server
