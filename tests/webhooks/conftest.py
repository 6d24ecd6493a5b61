"""Webhook tests: the endpoint served by uvicorn on a free port, on real SQLite and PostgreSQL."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator

import httpx
import pytest
import uvicorn
from sqlalchemy import Engine
from starlette.applications import Starlette
from starlette.types import ASGIApp

from cvi_app.config import Settings
from cvi_app.webhooks import webhook_routes
from tests.store.conftest import (
    engine,
    migrated_url,
    postgres_server,
    postgres_template,
    sqlite_template,
)

__all__ = [
    "engine",
    "migrated_url",
    "postgres_server",
    "postgres_template",
    "sqlite_template",
]

SECRET = "webhook-test-secret-0123456789"


@contextlib.contextmanager
def serve_asgi(app: ASGIApp, *, startup_timeout: float = 10.0) -> Iterator[str]:
    """Serve an ASGI app with uvicorn in a background thread; yield `http://127.0.0.1:PORT`."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name=f"uvicorn-{port}", daemon=True
    )
    thread.start()
    try:
        deadline = time.monotonic() + startup_timeout
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"test server on port {port} did not start")
            time.sleep(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def webhook_app(
    engine_factory: Callable[[], Engine], *, secret: str = SECRET, unknown_grace_s: float = 0.2
) -> Starlette:
    """A bare Starlette app serving only the webhook endpoint."""
    settings = Settings(CVI_WEBHOOK_SECRET=secret, CVI_PUBLIC_URL="http://127.0.0.1")
    routes = webhook_routes(
        settings=settings, engine_factory=engine_factory, unknown_grace_s=unknown_grace_s
    )
    return Starlette(routes=routes)


@pytest.fixture
def webhook_client(engine: Engine) -> Iterator[httpx.Client]:
    """An HTTP client for the endpoint served over the test's database."""
    with (
        serve_asgi(webhook_app(lambda: engine)) as url,
        httpx.Client(base_url=url, timeout=30) as client,
    ):
        yield client


def webhook_path(secret: str = SECRET) -> str:
    """The endpoint's path with a given secret."""
    return f"/api/webhooks/tavus/{secret}"
