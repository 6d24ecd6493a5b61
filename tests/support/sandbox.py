"""The whole sandbox (REST, rooms, simulated replica, timers, webhooks) served by uvicorn on a
free 127.0.0.1 port in this event loop, with a REST client that carries its API key."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.routing import Mount

from cvi_app.sandbox.app import Sandbox, create_sandbox_app, sandbox_of
from tests.support.servers import WAIT, serve

__all__ = ["SANDBOX_KEY", "LiveSandbox", "start_sandbox"]

SANDBOX_KEY = "live-tests-key"
"""The API key the sandbox started by `start_sandbox` accepts."""


@dataclass(frozen=True)
class LiveSandbox:
    """A running sandbox: its root URL, its parts and an authorised REST client."""

    root_url: str
    parts: Sandbox
    api: httpx.AsyncClient

    async def create(self, **body: Any) -> dict[str, Any]:
        """`POST /v2/conversations`; return the created conversation."""
        response = await self.api.post("/v2/conversations", json=body)
        assert response.status_code == 200, response.text
        created: dict[str, Any] = response.json()
        return created

    async def end(self, conversation_id: str) -> None:
        response = await self.api.post(f"/v2/conversations/{conversation_id}/end")
        assert response.status_code == 200, response.text


@contextlib.asynccontextmanager
async def start_sandbox(*, mount: str = "", **options: Any) -> AsyncIterator[LiveSandbox]:
    """The whole sandbox served in this event loop (mounted at `mount`, if given).

    The replica speaks fast (1000 words per second) unless `words_per_second` is given; the
    sandbox accepts `SANDBOX_KEY` unless `api_key` is given.
    """
    options.setdefault("words_per_second", 1000.0)
    options.setdefault("tool_timeout", 5.0)
    options.setdefault("api_key", SANDBOX_KEY)
    app = create_sandbox_app(**options)
    parts = sandbox_of(app)
    served: Any = app
    if mount:

        @contextlib.asynccontextmanager
        async def lifespan(_: Starlette) -> AsyncIterator[None]:
            yield
            await parts.aclose()

        served = Starlette(routes=[Mount(mount, app=app)], lifespan=lifespan)
    async with (
        serve(served) as root_url,
        httpx.AsyncClient(
            base_url=root_url + mount, headers={"x-api-key": options["api_key"]}, timeout=WAIT
        ) as api,
    ):
        yield LiveSandbox(root_url=root_url, parts=parts, api=api)
