"""Start the real app (`reflex run --env prod --single-port`) for browser tests and benchmarks."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.support.servers import free_port

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent

SECRET_MARKERS = {
    "CVI_WEBHOOK_SECRET": "webhook-secret-marker-" + secrets.token_hex(8),
    "CVI_SANDBOX_API_KEY": "sandbox-key-marker-" + secrets.token_hex(8),
}


WEB_DIR = ".web"


def private_web_dir(dest: Path) -> Path | None:
    """A private copy of the project's prepared `.web/` (without its build), or None.

    `reflex run` compiles and builds into its web directory and serves the build from there:
    another `reflex run` in the same tree would replace the files under a running app. Node
    packages come along, so nothing is installed. Pass the copy as `REFLEX_WEB_WORKDIR`. None
    when the tree has no prepared `.web/` yet.
    """
    source = ROOT / WEB_DIR
    if not (source / "node_modules").is_dir():
        return None

    def top_level_build(directory: str, names: list[str]) -> list[str]:
        return ["build"] if Path(directory) == source else []

    shutil.copytree(source, dest, symlinks=True, ignore=top_level_build)
    return dest


@dataclass(frozen=True)
class AppServer:
    """A running app: where to reach it and what it was started with."""

    url: str
    port: int
    db_url: str
    log_path: Path
    env: dict[str, str]
    pid: int
    """The `reflex run` process, leader of the process group the backend runs in."""


def _app_env(workdir: Path, port: int, extra: dict[str, str] | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TAVUS_", "CVI_"))}
    tools_bin = ROOT / ".tools" / "node_modules" / ".bin"
    env.update(
        PATH=f"{tools_bin}:{VENV_BIN}:{env.get('PATH', '')}",
        REFLEX_USE_SYSTEM_BUN="1",
        REFLEX_CHECK_LATEST_VERSION="0",
        REFLEX_DB_URL=f"sqlite:///{workdir / 'app.db'}",
        CVI_PUBLIC_URL=f"http://127.0.0.1:{port}",
        CVI_SANDBOX_WORDS_PER_SECOND="40",
        # Secrets with recognisable values, so tests can prove they never reach a browser.
        CVI_WEBHOOK_SECRET=SECRET_MARKERS["CVI_WEBHOOK_SECRET"],
        CVI_SANDBOX_API_KEY=SECRET_MARKERS["CVI_SANDBOX_API_KEY"],
        PYTHONUNBUFFERED="1",
        # The call components' browser tests use the developer page.
        CVI_DEV_PAGES="true",
        # The suite starts many conversations from one address and one browser; the limits
        # themselves are tested on their own.
        CVI_START_LIMIT_BROWSER="1000/minute",
        CVI_START_LIMIT_ADDRESS="1000/minute",
        CVI_LIVE_LIMIT_BROWSER="100",
        # Nor must the sandbox's own cap on live conversations (tested in tests/sandbox) make
        # a later test's start wait for an earlier test's conversation to time out.
        CVI_SANDBOX_MAX_CONCURRENT="200",
    )
    env.update(extra or {})
    return env


def reflex_run_command(port: int, *options: str) -> list[str]:
    """The command that runs the app in production on one port (frontend and backend)."""
    return [
        str(VENV_BIN / "reflex"),
        "run",
        "--env",
        "prod",
        "--single-port",
        "--backend-port",
        str(port),
        *options,
    ]


def stop_process_group(proc: subprocess.Popen) -> None:
    """SIGTERM the process's group (Reflex and its workers), then SIGKILL what is left."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


@contextlib.contextmanager
def start_app_server(
    workdir: Path,
    *,
    extra_env: dict[str, str] | None = None,
    timeout: float = 300.0,
    port: int | None = None,
) -> Iterator[AppServer]:
    """Run the app until the block ends; fail with the app's log if it does not come up.

    The database is `workdir`'s own, so starting again with the same `workdir` (and `port`,
    where tabs expect the app) restarts the app on the data it left.
    """
    port = port or free_port()
    env = _app_env(workdir, port, extra_env)
    migrate = subprocess.run(
        [str(VENV_BIN / "python"), "-m", "cvi_app.store.migrate"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    if migrate.returncode != 0 and (ROOT / "cvi_app/store/migrate.py").exists():
        raise RuntimeError(f"migrations failed:\n{migrate.stdout}\n{migrate.stderr}")
    log_path = workdir / "app.log"
    proc = _spawn(port, cwd=ROOT, env=env, log_path=log_path)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url, proc, log_path, timeout)
        yield AppServer(
            url=url,
            port=port,
            db_url=env["REFLEX_DB_URL"],
            log_path=log_path,
            env=env,
            pid=proc.pid,
        )
    finally:
        stop_process_group(proc)


def _spawn(port: int, *, cwd: Path, env: dict[str, str], log_path: Path) -> subprocess.Popen:
    """`reflex run` in production on `port`, in its own process group, logging to `log_path`."""
    with log_path.open("a") as log:
        return subprocess.Popen(
            reflex_run_command(port, "--loglevel", "info"),
            cwd=cwd,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _wait_until_up(url: str, proc: subprocess.Popen, log_path: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"app exited with {proc.returncode}:\n{log_path.read_text()}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/ping", timeout=2).status_code == 200 and (
                httpx.get(url, timeout=5).status_code == 200
            ):
                return
        time.sleep(0.5)
    raise RuntimeError(f"app not up after {timeout}s:\n{log_path.read_text()[-4000:]}")


@contextlib.contextmanager
def start_app_copy(
    app_dir: Path,
    workdir: Path,
    *,
    extra_env: dict[str, str] | None = None,
    timeout: float = 600.0,
) -> Iterator[str]:
    """Copy the Reflex app in `app_dir` to `workdir`, run it in production; yields its URL.

    For the small apps that try one component, and for the kit's examples: each is its own
    Reflex app importing `cvi_app` (on `PYTHONPATH`). The project's prepared `.web/` (node
    packages included) is copied in when there is one; Reflex adds the app's own packages.
    `{url}` in a value of `extra_env` becomes the app's URL (for `CVI_PUBLIC_URL`).
    """
    app = workdir / "app"
    shutil.copytree(app_dir, app, ignore=shutil.ignore_patterns("__pycache__", ".web", "assets"))
    port = free_port()
    tools_bin = ROOT / ".tools" / "node_modules" / ".bin"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("TAVUS_", "CVI_"))},
        "PATH": f"{tools_bin}:{VENV_BIN}:{os.environ.get('PATH', '')}",
        "PYTHONPATH": str(ROOT),
        "REFLEX_USE_SYSTEM_BUN": "1",
        "REFLEX_CHECK_LATEST_VERSION": "0",
        "PYTHONUNBUFFERED": "1",
        **(extra_env or {}),
    }
    web = private_web_dir(workdir / "web")
    if web is not None:
        env["REFLEX_WEB_WORKDIR"] = str(web)
    url = f"http://127.0.0.1:{port}"
    env = {k: v.replace("{url}", url) for k, v in env.items()}
    log_path = workdir / "app.log"
    proc = _spawn(port, cwd=app, env=env, log_path=log_path)
    try:
        _wait_until_up(url, proc, log_path, timeout)
        yield url
    finally:
        stop_process_group(proc)
