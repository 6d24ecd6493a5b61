"""A real, throwaway PostgreSQL server for tests.

`running_postgres()` runs Debian's server binaries (`/usr/lib/postgresql/*/bin`): `initdb` into a
temporary directory, then `pg_ctl start` on a free 127.0.0.1 port with its unix socket in that
directory, and stops the server and removes the directory at the end. PostgreSQL refuses to run
as root, so as root the server runs as the `postgres` user (which the Debian package creates).

Suites use the session fixture `postgres_server` (import it into their conftest.py) and make a
fresh database per test with `server.database()`. If the server cannot start, the tests that
need it fail with the reason; they are skipped only when CVI_SKIP_POSTGRES=1. CVI_PG_BIN may
name the directory of the server binaries.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from tests.support.servers import free_port

SERVICE_USER = "postgres"
START_TIMEOUT_S = 60


class PostgresUnavailable(RuntimeError):
    """The server could not be started; the message says why and how to fix it."""


@dataclass(frozen=True)
class PostgresServer:
    """A running server: where it listens and how to make databases on it."""

    host: str
    port: int
    user: str
    data_dir: Path

    def url(self, database: str) -> str:
        """SQLAlchemy URL (psycopg 3) of a database on this server."""
        return f"postgresql+psycopg://{self.user}@{self.host}:{self.port}/{database}"

    def _admin(self) -> psycopg.Connection:
        return psycopg.connect(
            host=self.host, port=self.port, user=self.user, dbname="postgres", autocommit=True
        )

    def create_database(self, name: str | None = None, *, template: str | None = None) -> str:
        """Create a database (empty, or a copy of `template`) and return its URL."""
        name = name or f"test_{uuid.uuid4().hex[:12]}"
        copy = f' TEMPLATE "{template}"' if template else ""
        with self._admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}"{copy}')
        return self.url(name)

    def drop_database(self, name: str) -> None:
        """Drop a database, closing any connection still open to it."""
        with self._admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    @contextlib.contextmanager
    def database(self, *, template: str | None = None) -> Iterator[str]:
        """A fresh database for one test (empty, or a copy of `template`); dropped afterwards."""
        name = f"test_{uuid.uuid4().hex[:12]}"
        url = self.create_database(name, template=template)
        try:
            yield url
        finally:
            self.drop_database(name)


def find_server_bin() -> Path:
    """The directory holding initdb, pg_ctl and postgres (newest installed version).

    CVI_PG_BIN names it explicitly (for installs outside Debian's layout).
    """
    explicit = os.environ.get("CVI_PG_BIN")
    if explicit:
        if not (Path(explicit) / "initdb").is_file():
            raise PostgresUnavailable(f"CVI_PG_BIN={explicit} holds no initdb")
        return Path(explicit)
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda path: int(Path(path).parts[-3]) if Path(path).parts[-3].isdigit() else 0,
    )
    if candidates:
        return Path(candidates[-1]).parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).resolve().parent
    raise PostgresUnavailable(
        "PostgreSQL server binaries not found (no /usr/lib/postgresql/*/bin/initdb): "
        "install them with `apt-get install -y postgresql` (`make test` does)"
    )


def _as_service_user() -> list[str]:
    """Command prefix that runs a server binary as a non-root user when we are root."""
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam(SERVICE_USER)
    except KeyError:
        raise PostgresUnavailable(
            f"running as root and there is no {SERVICE_USER!r} user to run PostgreSQL as "
            "(the Debian postgresql package creates it)"
        ) from None
    runuser = shutil.which("runuser")
    if runuser:
        return [runuser, "-u", SERVICE_USER, "--"]
    raise PostgresUnavailable("running as root and `runuser` is missing (util-linux)")


def _run(cmd: list[str], *, what: str) -> None:
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=START_TIMEOUT_S)
    if result.returncode != 0:
        raise PostgresUnavailable(
            f"{what} failed (exit {result.returncode}): {result.stderr.strip() or result.stdout}"
        )


def _log_tail(log: Path) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-15:])
    except OSError:
        return "(no server log)"


@contextlib.contextmanager
def running_postgres(parent: Path | None = None) -> Iterator[PostgresServer]:
    """Start a throwaway server; stop it and delete its files when the block ends.

    Args:
        parent: The folder its files go in (a new one inside); the system's temporary folder
            when None.

    Raises:
        PostgresUnavailable: The binaries are missing or the server did not start.
    """
    bindir = find_server_bin()
    prefix = _as_service_user()
    root = Path(tempfile.mkdtemp(prefix="cvi-pg-", dir=parent))
    data_dir = root / "data"
    log = root / "server.log"
    if prefix:
        entry = pwd.getpwnam(SERVICE_USER)
        os.chown(root, entry.pw_uid, entry.pw_gid)
    started = False
    try:
        _run(
            [
                *prefix,
                str(bindir / "initdb"),
                "-D",
                str(data_dir),
                "-U",
                SERVICE_USER,
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ],
            what="initdb",
        )
        port = 0
        for _attempt in range(3):
            port = free_port()
            options = (
                f"-h 127.0.0.1 -p {port} -k {root} "
                "-c fsync=off -c full_page_writes=off -c max_connections=100"
            )
            result = subprocess.run(
                [
                    *prefix,
                    str(bindir / "pg_ctl"),
                    "-D",
                    str(data_dir),
                    "-l",
                    str(log),
                    "-o",
                    options,
                    "-w",
                    "-t",
                    str(START_TIMEOUT_S),
                    "start",
                ],
                capture_output=True,
                text=True,
                timeout=START_TIMEOUT_S + 10,
            )
            if result.returncode == 0:
                started = True
                break
        if not started:
            raise PostgresUnavailable(f"pg_ctl start failed; server log:\n{_log_tail(log)}")
        yield PostgresServer(host="127.0.0.1", port=port, user=SERVICE_USER, data_dir=data_dir)
    finally:
        if started or (data_dir / "postmaster.pid").exists():
            _stop(prefix, bindir, data_dir)
        shutil.rmtree(root, ignore_errors=True)


def _stop(prefix: list[str], bindir: Path, data_dir: Path) -> None:
    result = subprocess.run(
        [*prefix, str(bindir / "pg_ctl"), "-D", str(data_dir), "-m", "fast", "-w", "stop"],
        capture_output=True,
        text=True,
        timeout=START_TIMEOUT_S,
    )
    if result.returncode == 0:
        return
    # The postmaster's pid is the first line of its pid file: end that process only.
    with contextlib.suppress(OSError, ValueError):
        pid = int((data_dir / "postmaster.pid").read_text().splitlines()[0])
        os.kill(pid, signal.SIGKILL)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A PostgreSQL server for the whole test session (fails, not skips, if it cannot start)."""
    if os.environ.get("CVI_SKIP_POSTGRES") == "1":
        pytest.skip("PostgreSQL tests skipped: CVI_SKIP_POSTGRES=1")
    try:
        server_context = running_postgres()
        server = server_context.__enter__()
    except PostgresUnavailable as exc:
        pytest.fail(f"PostgreSQL could not be started: {exc}", pytrace=False)
    try:
        yield server
    finally:
        server_context.__exit__(None, None, None)
