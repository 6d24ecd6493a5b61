"""Where scenarios run: a SessionManager over a sandbox (or Tavus), and a store of its own.

In sandbox mode the runner uses the running app's sandbox when it can reach it with the key it
has (`CVI_SANDBOX_API_KEY`, or the sandbox service at `CVI_SANDBOX_URL`); otherwise it serves
the whole sandbox (REST API, rooms, simulated replica) in this event loop on a free 127.0.0.1
port, mounted at `/sandbox` as the app mounts it. In tavus mode it talks to the real API.

Conversations are recorded in a SQLite store migrated for the run and thrown away after it, so
scenario runs never fill the studio's history.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import shutil
import socket
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import httpx
import uvicorn
from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route

from cvi_app.config import ConfigError, Settings
from cvi_app.live.manager import SessionManager
from cvi_app.live.tools import ToolRegistry, app_tools
from cvi_app.sandbox.app import create_sandbox_app, sandbox_of

__all__ = [
    "DEFAULT_PACE",
    "Environment",
    "Mode",
    "migrated_store",
    "open_environment",
    "private_store",
]

logger = logging.getLogger(__name__)

Mode = Literal["sandbox", "tavus"]

DEFAULT_PACE = 20.0
"""Words a second the in-process sandbox's replica speaks (the app's is 3): runs stay quick."""
_PROBE_TIMEOUT = 2.0


@dataclass
class Environment:
    """A session manager to run scenarios with, and what to say about where they run."""

    manager: SessionManager
    mode: Mode
    where: str
    """One sentence: which API and rooms the scenarios use."""
    notes: list[str] = field(default_factory=list)
    """Things a person should know about this run (printed, and kept with each result)."""


# ---- the store --------------------------------------------------------------------------


def migrated_store(path: Path) -> str:
    """Make a SQLite database at `path` migrated to head; return its URL."""
    from cvi_app.store.migrate import upgrade_to_head

    url = f"sqlite:///{path}"
    upgrade_to_head(url)
    return url


@contextlib.contextmanager
def private_store(template: Path | None = None) -> Iterator[str]:
    """Make a throwaway SQLite store the app's configured database until the block ends.

    `REFLEX_DB_URL` names it meanwhile (the session manager records through Reflex's
    configuration); the previous value comes back afterwards. With `template` (a database
    already migrated to head) the store is a copy of it, which is quicker than migrating.
    """
    from reflex.config import reload_config

    from cvi_app.store.db import dispose_engines

    folder = Path(tempfile.mkdtemp(prefix="cvi-scenarios-"))
    path = folder / "store.db"
    before = os.environ.get("REFLEX_DB_URL")
    try:
        if template is not None:
            shutil.copyfile(template, path)
            url = f"sqlite:///{path}"
        else:
            url = migrated_store(path)
        os.environ["REFLEX_DB_URL"] = url
        reload_config()
        yield url
    finally:
        dispose_engines()
        if before is None:
            os.environ.pop("REFLEX_DB_URL", None)
        else:
            os.environ["REFLEX_DB_URL"] = before
        reload_config()
        shutil.rmtree(folder, ignore_errors=True)


# ---- the sandbox served here ------------------------------------------------------------


async def _webhook_sink(_: Request) -> Response:
    """Take the sandbox's webhooks (nothing here wants them) so it has nothing to retry."""
    return Response(status_code=204)


@contextlib.asynccontextmanager
async def _serve(app: Any) -> AsyncIterator[str]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        for _ in range(1000):
            if server.started or task.done():
                break
            await asyncio.sleep(0.01)
        if not server.started:
            if task.done():
                task.result()
            raise RuntimeError(f"the sandbox on port {port} did not start")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        with contextlib.suppress(Exception):
            await asyncio.wait_for(task, 10)
        sock.close()


@contextlib.asynccontextmanager
async def hosted_sandbox(
    *, api_key: str, words_per_second: float, tool_timeout: float = 10.0
) -> AsyncIterator[str]:
    """The whole sandbox served in this event loop; yields the root URL it is mounted under."""
    sandbox = create_sandbox_app(
        api_key=api_key,
        words_per_second=words_per_second,
        tool_timeout=tool_timeout,
        max_concurrent=50,
    )
    parts = sandbox_of(sandbox)

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        yield
        await parts.aclose()

    app = Starlette(
        routes=[
            Route("/api/webhooks/tavus/{secret}", _webhook_sink, methods=["POST"]),
            Mount("/sandbox", app=sandbox),
        ],
        lifespan=lifespan,
    )
    async with _serve(app) as root:
        yield root


# ---- choosing ---------------------------------------------------------------------------


def _settings(**values: str) -> Settings:
    """The settings from the environment, with `values` (by variable name) on top.

    A blank value unsets a variable (`TAVUS_API_KEY=""`: sandbox mode whatever is exported).
    """
    from cvi_app.config import load_settings

    if not values:
        return load_settings()
    try:
        return Settings(**values)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc'])}: {error['msg']}" for error in exc.errors()
        )
        raise ConfigError(f"Invalid configuration: {problems}") from exc


async def _reachable(url: str, *, key: str | None = None) -> int | None:
    """The status `GET url` answers within a moment, or None when nothing answers."""
    headers = {"x-api-key": key} if key else {}
    try:
        async with httpx.AsyncClient(timeout=_PROBE_TIMEOUT) as client:
            return (await client.get(url, headers=headers)).status_code
    except httpx.HTTPError:
        return None


def _tools(settings: Settings, tools: ToolRegistry | None) -> ToolRegistry:
    return tools if tools is not None else app_tools(settings)


@contextlib.asynccontextmanager
async def open_environment(
    mode: Mode = "sandbox",
    *,
    in_process: bool = False,
    pace: float = DEFAULT_PACE,
    tools: ToolRegistry | None = None,
) -> AsyncIterator[Environment]:
    """A session manager to run scenarios with, closed (every session ended) afterwards.

    Args:
        mode: `sandbox` (the default, whatever `TAVUS_API_KEY` says) or `tavus`.
        in_process: In sandbox mode, serve a sandbox here even when an app's is reachable.
        pace: Words a second the replica of a sandbox served here speaks.
        tools: The tools sessions answer (default: the app's, `CVI_TOOLS_MODULE` and the demo
            tools).

    Raises:
        ConfigError: The settings cannot be used for this mode (the message names why).
    """
    if mode == "tavus":
        settings = _settings()
        if settings.tavus_api_key is None:
            raise ConfigError("--mode tavus needs TAVUS_API_KEY set to your Tavus API key")
        manager = SessionManager(settings, tools=_tools(settings, tools))
        try:
            yield Environment(manager, "tavus", f"the Tavus API at {settings.api_base}")
        finally:
            await manager.aclose()
        return

    found = None if in_process else await _running_sandbox()
    if found is not None:
        settings, where, notes = found
        manager = SessionManager(settings, tools=_tools(settings, tools))
        try:
            yield Environment(manager, "sandbox", where, notes)
        finally:
            await manager.aclose()
        return

    notes = [] if in_process else await _why_not_the_app()
    key = secrets.token_urlsafe(24)
    async with hosted_sandbox(api_key=key, words_per_second=pace) as root:
        settings = _settings(
            TAVUS_API_KEY="",
            CVI_SANDBOX_URL="",
            CVI_PUBLIC_URL=root,
            CVI_SANDBOX_API_KEY=key,
            CVI_WEBHOOK_SECRET=secrets.token_urlsafe(32),
            CVI_SECRET_KEY=secrets.token_urlsafe(32),
        )
        manager = SessionManager(settings, tools=_tools(settings, tools))
        try:
            yield Environment(
                manager,
                "sandbox",
                f"a sandbox served in this process at {root}/sandbox "
                f"(its replica speaks {pace:g} words a second)",
                notes,
            )
        finally:
            await manager.aclose()


def _sandbox_settings() -> Settings:
    return _settings(TAVUS_API_KEY="")


async def _running_sandbox() -> tuple[Settings, str, list[str]] | None:
    """The settings to use a running app's sandbox (or the sandbox service), if reachable."""
    settings = _sandbox_settings()
    if settings.sandbox_url is not None:
        # The sandbox service the app uses: the settings insist on its key.
        return settings, f"the sandbox service at {settings.sandbox_url}", []
    key = settings.sandbox_api_key
    if key is None:
        return None
    status = await _reachable(f"{settings.sandbox_api_base}/personas", key=key.get_secret_value())
    if status != 200:
        return None
    return (
        settings,
        f"the running app's sandbox at {settings.sandbox_api_base}",
        [
            "Its replica speaks at the app's pace (CVI_SANDBOX_WORDS_PER_SECOND); pass "
            "--in-process for a quick sandbox of the command's own."
        ],
    )


async def _why_not_the_app() -> list[str]:
    """A note when an app runs but its sandbox only takes the key it made for itself."""
    try:
        settings = _sandbox_settings()
    except ConfigError:
        return []
    if settings.sandbox_api_key is not None:
        return []
    if await _reachable(f"{settings.public_url}/ping") is None:
        return []
    return [
        f"An app is running at {settings.public_url}, but its sandbox accepts only the key it "
        "made at start. To run scenarios against it, set the same CVI_SANDBOX_API_KEY for the "
        "app and for this command."
    ]
