"""Fixtures for sandbox tests: real servers (uvicorn in a thread) on free 127.0.0.1 ports."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Mount
from starlette.types import ASGIApp, Receive, Scope, Send

from cvi_app.sandbox.registry import ConversationRegistry
from cvi_app.sandbox.rest import rest_routes
from tests.support.servers import serve_asgi

SANDBOX_TEST_KEY = "sandbox-test-key"


class SwitchableApp:
    """An ASGI app that forwards to whichever app a test put in place (503 when none)."""

    def __init__(self) -> None:
        self.app: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        app = self.app
        if app is None:
            await PlainTextResponse("no app", status_code=503)(scope, receive, send)
            return
        await app(scope, receive, send)


@dataclass(frozen=True)
class AsgiHost:
    """One real server for the whole session; each test swaps in its own app."""

    url: str
    target: SwitchableApp

    def serve(self, app: ASGIApp) -> str:
        """Make `app` answer every request from now on; return the server's root URL."""
        self.target.app = app
        return self.url


@dataclass(frozen=True)
class SandboxServer:
    """A running sandbox REST API: `base_url` is the API root (`http://127.0.0.1:PORT/v2`)."""

    base_url: str
    root_url: str
    registry: ConversationRegistry
    api_key: str


@pytest.fixture(scope="session")
def asgi_host() -> Iterator[AsgiHost]:
    """A uvicorn server (background thread) shared by the session's REST tests."""
    target = SwitchableApp()
    with serve_asgi(target) as url:
        yield AsgiHost(url=url, target=target)


@pytest.fixture
def serve_sandbox(asgi_host: AsgiHost) -> Iterator[Callable[..., SandboxServer]]:
    """Serve the REST API of a given registry: `serve_sandbox(registry, prefix="/sandbox")`.

    The API root is `<prefix>/v2`, with `prefix` as an outer mount (like the app's `/sandbox`).
    """

    def serve(
        registry: ConversationRegistry, *, prefix: str = "", api_key: str = SANDBOX_TEST_KEY
    ) -> SandboxServer:
        api = Mount("/v2", routes=rest_routes(registry))
        app = Starlette(routes=[Mount(prefix, routes=[api])] if prefix else [api])
        root = asgi_host.serve(app)
        return SandboxServer(
            base_url=f"{root}{prefix}/v2", root_url=root, registry=registry, api_key=api_key
        )

    yield serve
    asgi_host.target.app = None


@pytest.fixture
def sandbox_registry() -> ConversationRegistry:
    """A fresh registry (stock catalog, no runtime) that accepts only `SANDBOX_TEST_KEY`."""
    return ConversationRegistry(api_key=SANDBOX_TEST_KEY, max_concurrent=3)


@pytest.fixture
def sandbox_server(
    sandbox_registry: ConversationRegistry, serve_sandbox: Callable[..., SandboxServer]
) -> SandboxServer:
    """The sandbox REST API alone, mounted at `/v2`, served over real HTTP."""
    return serve_sandbox(sandbox_registry)
