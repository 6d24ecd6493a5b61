"""Webhook tests: the endpoint served by uvicorn on a free port, on real SQLite and PostgreSQL,
asking a real sandbox (served the same way) whether a conversation has ended."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine
from starlette.applications import Starlette

from cvi_app.config import Settings
from cvi_app.sandbox.app import create_sandbox_app
from cvi_app.tavus import TavusClient
from cvi_app.webhooks import (
    ApiAnswer,
    EndVerifier,
    VerifiedEndHandler,
    conversation_at_api,
    webhook_routes,
)
from tests.support.servers import serve_asgi

SECRET = "webhook-test-secret-0123456789"
SANDBOX_KEY = "webhook-tests-sandbox-key"


@dataclass(frozen=True)
class RunningSandbox:
    """The sandbox served in a background thread, with a REST client carrying its key."""

    url: str
    api: httpx.Client

    @property
    def api_base(self) -> str:
        return f"{self.url}/v2"

    def create(self, **body: Any) -> dict[str, Any]:
        response = self.api.post("/v2/conversations", json=body)
        assert response.status_code == 200, response.text
        created: dict[str, Any] = response.json()
        return created

    def get(self, conversation_id: str, *, verbose: bool = False) -> dict[str, Any]:
        params = {"verbose": "true"} if verbose else None
        response = self.api.get(f"/v2/conversations/{conversation_id}", params=params)
        assert response.status_code == 200, response.text
        found: dict[str, Any] = response.json()
        return found

    def end(self, conversation_id: str) -> None:
        response = self.api.post(f"/v2/conversations/{conversation_id}/end")
        assert response.status_code == 200, response.text


@pytest.fixture(scope="session")
def sandbox() -> Iterator[RunningSandbox]:
    """One sandbox (REST, rooms, replicas, webhooks) for the folder's tests."""
    app = create_sandbox_app(api_key=SANDBOX_KEY, words_per_second=1000.0, max_concurrent=100)
    with (
        serve_asgi(app, lifespan="on") as url,
        httpx.Client(base_url=url, headers={"x-api-key": SANDBOX_KEY}, timeout=30) as api,
    ):
        yield RunningSandbox(url=url, api=api)


def api_verifier(api_base: str, *, asked: list[str] | None = None) -> EndVerifier:
    """Asks the API at `api_base` (the sandbox's key) about a conversation, as the app does."""

    async def verify(conversation_id: str) -> ApiAnswer:
        if asked is not None:
            asked.append(conversation_id)
        async with TavusClient(
            api_key=SANDBOX_KEY, base_url=api_base, timeout=5, max_retries=0
        ) as client:
            return await conversation_at_api(client, conversation_id)

    return verify


def webhook_app(
    engine_factory: Callable[[], Engine],
    *,
    verify_end: EndVerifier,
    on_verified_end: VerifiedEndHandler | None = None,
    secret: str = SECRET,
    unknown_grace_s: float = 0.2,
) -> Starlette:
    """A bare Starlette app serving only the webhook endpoint."""
    settings = Settings(CVI_WEBHOOK_SECRET=secret, CVI_PUBLIC_URL="http://127.0.0.1")
    routes = webhook_routes(
        settings=settings,
        engine_factory=engine_factory,
        verify_end=verify_end,
        on_verified_end=on_verified_end,
        unknown_grace_s=unknown_grace_s,
    )
    return Starlette(routes=routes)


@pytest.fixture
def webhook_client(engine: Engine, sandbox: RunningSandbox) -> Iterator[httpx.Client]:
    """An HTTP client for the endpoint served over the test's database and the sandbox."""
    app = webhook_app(lambda: engine, verify_end=api_verifier(sandbox.api_base))
    with (
        serve_asgi(app) as url,
        httpx.Client(base_url=url, timeout=30) as client,
    ):
        yield client


def webhook_path(secret: str = SECRET) -> str:
    """The endpoint's path with a given secret."""
    return f"/api/webhooks/tavus/{secret}"
