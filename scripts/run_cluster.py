"""`make run-cluster WORKERS=2`: the cluster shape on one machine, each part a real server.

It starts, with throwaway data under `.data/cluster/`:
- a PostgreSQL server (Debian's binaries) holding the `cvi_studio` database, migrated once;
- a Redis server, which every process's `REFLEX_REDIS_URL` names;
- without `TAVUS_API_KEY`, the sandbox service (`python -m cvi_app.sandbox`) that every process
  talks to, as they would talk to Tavus;
- N app processes (`reflex run --env prod --single-port`), each on its own port, standing in
  for machines behind a load balancer. They share the secrets that must match across machines
  (`CVI_SECRET_KEY`, `CVI_WEBHOOK_SECRET`), kept in `.data/cluster/` between runs.

Each process's URL is printed once it answers. Ctrl-C (or SIGTERM) stops everything and removes
the data. The README's "Running a cluster" section says what several machines need instead.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from cvi_app.config import stored_secret
from tests.support.app_server import (
    ROOT,
    VENV_BIN,
    private_web_dir,
    reflex_run_command,
    stop_process_group,
)
from tests.support.postgres import PostgresServer, running_postgres
from tests.support.redis_server import RedisServer, running_redis
from tests.support.sandbox_service import run_sandbox_service

DEFAULT_DATA = ROOT / ".data" / "cluster"
DATABASE = "cvi_studio"
DEFAULT_PORT = 8001
SANDBOX_PORT = 8100
START_TIMEOUT_S = 600.0
"""A fresh clone builds each process's frontend: minutes on a small machine."""


@dataclass
class AppProcess:
    """One app process: where it answers, where it builds its frontend, where its output goes."""

    number: int
    port: int
    data: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def log(self) -> Path:
        """Its output."""
        return self.data / "logs" / f"app-{self.number}.log"

    @property
    def web_dir(self) -> Path:
        """Its copy of the project's prepared `.web/`, where it builds its frontend."""
        return self.data / f"web-{self.number}"

    @property
    def url(self) -> str:
        """The URL a browser opens."""
        return f"http://127.0.0.1:{self.port}"


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(
        prog="python -m scripts.run_cluster",
        description="Run CVI Studio as a cluster on this machine (PostgreSQL, Redis, N processes).",
    )
    parser.add_argument("--workers", type=int, default=2, help="app processes (default 2)")
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help="the first process's port; the others follow"
    )
    parser.add_argument("--sandbox-port", type=int, default=SANDBOX_PORT)
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=DEFAULT_DATA,
        help=f"where the throwaway data, logs and shared secrets go (default {DEFAULT_DATA})",
    )
    args = parser.parse_args(argv)
    if not 1 <= args.workers <= 16:
        parser.error("--workers must be between 1 and 16")
    return args


def shared_environment(
    data: Path, postgres: PostgresServer, redis: RedisServer, sandbox: tuple[str, str] | None
) -> dict[str, str]:
    """What every process is given alike: the servers, the sandbox service, the shared secrets."""
    env = {
        "REFLEX_DB_URL": postgres.url(DATABASE),
        "REFLEX_REDIS_URL": redis.url,
        "CVI_SECRET_KEY": stored_secret(data / "secret_key"),
        "CVI_WEBHOOK_SECRET": stored_secret(data / "webhook_secret"),
        "REFLEX_USE_SYSTEM_BUN": "1",
        "REFLEX_CHECK_LATEST_VERSION": "0",
        "REFLEX_TELEMETRY_ENABLED": "false",
        "PYTHONUNBUFFERED": "1",
    }
    if sandbox is not None:
        env["CVI_SANDBOX_URL"], env["CVI_SANDBOX_API_KEY"] = sandbox
    return env


def process_environment(
    shared: dict[str, str], app: AppProcess, web_dir: Path | None
) -> dict[str, str]:
    """One process's environment: the shared part, its own public URL and web directory."""
    tools_bin = ROOT / ".tools" / "node_modules" / ".bin"
    env = {**os.environ, **shared}
    env["PATH"] = f"{tools_bin}:{VENV_BIN}:{env.get('PATH', '')}"
    env["CVI_PUBLIC_URL"] = app.url
    if web_dir is not None:
        env["REFLEX_WEB_WORKDIR"] = str(web_dir)
    return env


def migrate(shared: dict[str, str]) -> None:
    """Bring the shared database to the newest schema, once, before any process starts."""
    subprocess.run(
        [str(VENV_BIN / "python"), "-m", "cvi_app.store.migrate"],
        cwd=ROOT,
        env={**os.environ, **shared},
        check=True,
    )


def start_app(app: AppProcess, env: dict[str, str]) -> None:
    """Start `reflex run` for one process, its output going to its log."""
    with app.log.open("ab") as log:
        app.process = subprocess.Popen(
            reflex_run_command(app.port),
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def wait_until_up(app: AppProcess, stopping: threading.Event) -> bool:
    """Wait until the process serves its pages; False if it exited or we are stopping."""
    import httpx

    deadline = START_TIMEOUT_S
    while deadline > 0 and not stopping.is_set():
        assert app.process is not None
        if app.process.poll() is not None:
            return False
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{app.url}/ping", timeout=2).status_code == 200 and (
                httpx.get(app.url, timeout=5).status_code == 200
            ):
                return True
        stopping.wait(1.0)
        deadline -= 1.0
    return False


def stop_app(app: AppProcess) -> None:
    """Stop one process (its whole group), if it runs."""
    if app.process is not None and app.process.poll() is None:
        stop_process_group(app.process)


@contextlib.contextmanager
def sandbox_service(data: Path, port: int) -> Iterator[tuple[str, str] | None]:
    """The sandbox service's URL and key, when there is no Tavus key; None otherwise."""
    if os.environ.get("TAVUS_API_KEY", "").strip():
        yield None
        return
    key = os.environ.get("CVI_SANDBOX_API_KEY") or secrets.token_urlsafe(24)
    words = os.environ.get("CVI_SANDBOX_WORDS_PER_SECOND", "3")
    with run_sandbox_service(
        data / "logs", port=port, api_key=key, words_per_second=float(words)
    ) as service:
        yield service.url, key


def say(line: str) -> None:
    """A line for the person who ran the command."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def start_apps(apps: list[AppProcess], shared: dict[str, str], stopping: threading.Event) -> bool:
    """Start every process and wait until each answers, printing its URL; False if one failed.

    Each process builds its frontend in its own copy of the project's prepared `.web/`, so no
    two builds (nor a `make run` beside them) write the same files. On a fresh clone the first
    process prepares `.web/` itself, and the others start once it is up.
    """
    waiting = list(apps)
    if private_web_dir(apps[0].web_dir) is None:  # `.web/` is not prepared yet
        first = waiting.pop(0)
        start_app(first, process_environment(shared, first, None))
        if not wait_until_up(first, stopping):
            return stopping.is_set()
        say(f"App process {first.number}: {first.url}")
    for app in waiting:
        web = app.web_dir if app.web_dir.is_dir() else private_web_dir(app.web_dir)
        start_app(app, process_environment(shared, app, web))
    for app in waiting:
        if not wait_until_up(app, stopping):
            return stopping.is_set()
        say(f"App process {app.number}: {app.url}")
    return True


def main(argv: Sequence[str] | None = None) -> int:
    """Run the cluster until Ctrl-C or SIGTERM; 0 on a clean stop, 1 if a process failed."""
    args = parse_args(argv)
    data: Path = args.data_dir.resolve()
    stopping = threading.Event()

    def stop(signum: int, frame: object) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    (data / "logs").mkdir(parents=True, exist_ok=True)
    apps = [AppProcess(n + 1, args.port + n, data) for n in range(args.workers)]
    for app in apps:
        shutil.rmtree(app.web_dir, ignore_errors=True)  # left by a run that crashed
    failed = False
    with (
        running_postgres(data) as postgres,
        running_redis(data) as redis,
        sandbox_service(data, args.sandbox_port) as sandbox,
        contextlib.ExitStack() as stack,
    ):
        postgres.create_database(DATABASE)
        say(f"PostgreSQL: {postgres.url(DATABASE)}")
        say(f"Redis: {redis.url}")
        say(f"Sandbox service: {sandbox[0]}" if sandbox else "Tavus: TAVUS_API_KEY is set")
        shared = shared_environment(data, postgres, redis, sandbox)
        migrate(shared)
        for app in apps:
            stack.callback(stop_app, app)
        say(f"Starting {len(apps)} app processes (logs in {data / 'logs'}) ...")
        if not start_apps(apps, shared, stopping):
            failed = True
            say("An app process did not start; its log says why:")
            for app in apps:
                say(f"  {app.log}")
        elif not stopping.is_set():
            say("All running. Press Ctrl-C to stop.")
            while not stopping.wait(1.0):
                if any(a.process is not None and a.process.poll() is not None for a in apps):
                    say("An app process exited; stopping the cluster.")
                    failed = True
                    break
        say("Stopping ...")
    for app in apps:
        shutil.rmtree(app.web_dir, ignore_errors=True)
    say("Stopped.")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
