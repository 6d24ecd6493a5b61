"""The sandbox as one ASGI app: the REST API under `/v2` and the rooms under `/rooms`.

Standalone it runs with `python -m cvi_app.sandbox` (the sandbox service, which serves the same
under `/sandbox` too); the Reflex app mounts a `MountedSandbox` at `/sandbox`, which builds the
sandbox when the app starts and closes it when the app stops (a mounted Starlette app's lifespan
is not run by its parent).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Mount, Router
from starlette.types import ASGIApp, Receive, Scope, Send

from cvi_app.sandbox.custom_llm import CustomLLMLimits
from cvi_app.sandbox.registry import ConversationRegistry
from cvi_app.sandbox.replica import DEFAULT_WORDS_PER_SECOND
from cvi_app.sandbox.rest import rest_routes
from cvi_app.sandbox.room_routes import room_routes
from cvi_app.sandbox.rooms import RoomHub
from cvi_app.sandbox.runtime import SandboxRuntime
from cvi_app.sandbox.webhooks import WebhookSender

__all__ = ["AtOrigin", "MountedSandbox", "Sandbox", "create_sandbox_app", "sandbox_of"]


@dataclass(frozen=True)
class Sandbox:
    """The sandbox's parts, reachable from the app as `app.state.sandbox`."""

    hub: RoomHub
    registry: ConversationRegistry
    runtime: SandboxRuntime

    async def aclose(self) -> None:
        """Stop timers and replicas, close every room, finish pending webhooks (idempotent)."""
        await self.runtime.aclose()


def create_sandbox_app(
    *,
    api_key: str,
    max_concurrent: int = 10,
    words_per_second: float = DEFAULT_WORDS_PER_SECOND,
    twins: bool = False,
    tool_timeout: float = 20.0,
    llm_limits: CustomLLMLimits | None = None,
    webhook_sender: WebhookSender | None = None,
    prefixes: Sequence[str] = ("",),
    public_origin: str | None = None,
) -> Starlette:
    """Build the sandbox app.

    Args:
        api_key: The only `x-api-key` the REST API accepts (required, not blank).
        max_concurrent: Active conversations allowed at once.
        words_per_second: The simulated replica's speaking speed.
        twins: Replicas also send the newer `pal` twins of their events.
        tool_timeout: Seconds a replica waits for a tool result.
        llm_limits: The bounds of calls to a persona's own LLM (`layers.llm.base_url`).
        webhook_sender: Delivers webhooks (a default one when None).
        prefixes: Where the sandbox is served: `<prefix>/v2` and `<prefix>/rooms` for each.
        public_origin: The origin browsers reach the sandbox at (`https://host[:port]`): the
            room URLs of new conversations start with it. None: the origin the API was called
            at.

    Returns:
        A Starlette app serving `/v2/...` (REST), `/rooms/{id}` (page) and `/rooms/{id}/ws`,
        below each prefix.

    Raises:
        ValueError: `api_key` is blank (the API is never open to any key), or `public_origin`
            is not an http(s) origin.
    """
    hub = RoomHub()
    registry = ConversationRegistry(api_key=api_key, max_concurrent=max_concurrent)
    runtime = SandboxRuntime(
        hub,
        lambda: registry,
        words_per_second=words_per_second,
        twins=twins,
        webhook_sender=webhook_sender,
        tool_timeout=tool_timeout,
        llm_limits=llm_limits,
    )
    registry.runtime = runtime
    sandbox = Sandbox(hub=hub, registry=registry, runtime=runtime)

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        yield
        await sandbox.aclose()

    rest: ASGIApp = Router(routes=rest_routes(registry))
    if public_origin is not None:
        rest = AtOrigin(rest, public_origin)
    served: list[BaseRoute] = [Mount("/v2", app=rest), *room_routes(hub)]
    routes: list[BaseRoute] = []
    for prefix in prefixes:
        routes.extend([Mount(prefix, routes=served)] if prefix else served)
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.sandbox = sandbox
    return app


class AtOrigin:
    """Serves HTTP requests as if they had been made at `origin` (its scheme, host and port).

    What the REST API derives from the request's own URL (the room URLs of new conversations)
    then names the address browsers use, not the one an app process called from inside.

    Args:
        app: The app to serve.
        origin: `http(s)://host[:port]`, no path.

    Raises:
        ValueError: `origin` is not an http(s) origin.
    """

    def __init__(self, app: ASGIApp, origin: str) -> None:
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.path.strip("/"):
            raise ValueError(f"not an http(s) origin: {origin!r}")
        self.app = app
        self.scheme = parts.scheme
        self.host = parts.netloc.encode("latin-1")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one request with the origin's scheme and `Host`."""
        if scope["type"] == "http":
            headers = [(k, v) for k, v in scope["headers"] if k != b"host"]
            scope = {**scope, "scheme": self.scheme, "headers": [(b"host", self.host), *headers]}
        await self.app(scope, receive, send)


def sandbox_of(app: Starlette) -> Sandbox:
    """The `Sandbox` behind an app made by `create_sandbox_app`."""
    sandbox: Sandbox = app.state.sandbox
    return sandbox


class MountedSandbox:
    """The sandbox as a host app mounts it: built at the host's start, not when it is imported.

    Until `running()` has built it (and after it has closed it), every request is answered
    503 "The sandbox is not running."

    Args:
        build: Makes the sandbox app (`create_sandbox_app` with the host's settings).
    """

    def __init__(self, build: Callable[[], Starlette]) -> None:
        self._build = build
        self._app: Starlette | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one request or websocket with the running sandbox."""
        app = self._app
        if app is not None:
            await app(scope, receive, send)
        elif scope["type"] == "http":
            response = JSONResponse({"message": "The sandbox is not running."}, status_code=503)
            await response(scope, receive, send)
        elif scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1013})

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Build the sandbox, serve it while the host runs, then close its rooms and timers."""
        app = self._build()
        self._app = app
        try:
            yield
        finally:
            self._app = None
            await sandbox_of(app).aclose()
