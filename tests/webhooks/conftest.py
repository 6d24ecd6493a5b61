"""Webhook tests: the endpoint served by uvicorn on a free port, on real SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest
from sqlalchemy import Engine
from starlette.applications import Starlette

from cvi_app.config import Settings
from cvi_app.webhooks import webhook_routes
from tests.store.conftest import (
    engine,
    migrated_url,
    postgres_server,
    postgres_template,
    sqlite_template,
)
from tests.support.servers import serve_asgi

__all__ = [
    "engine",
    "migrated_url",
    "postgres_server",
    "postgres_template",
    "sqlite_template",
]

SECRET = "webhook-test-secret-0123456789"


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
