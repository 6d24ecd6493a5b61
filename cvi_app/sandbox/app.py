"""The sandbox as one ASGI app: the REST API under `/v2` and the rooms under `/rooms`.

Standalone it runs with `python -m cvi_app.sandbox`; the Reflex app mounts it at `/sandbox`.
A mounted Starlette app's lifespan is not run by its parent, so the host should call
`sandbox_of(app).aclose()` at shutdown (the standalone server's lifespan does it itself).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

from starlette.applications import Starlette
from starlette.routing import Mount

from cvi_app.sandbox.registry import ConversationRegistry
from cvi_app.sandbox.replica import DEFAULT_WORDS_PER_SECOND
from cvi_app.sandbox.rest import rest_routes
from cvi_app.sandbox.room_routes import room_routes
from cvi_app.sandbox.rooms import RoomHub
from cvi_app.sandbox.runtime import SandboxRuntime
from cvi_app.sandbox.webhooks import WebhookSender

__all__ = ["Sandbox", "create_sandbox_app", "sandbox_of"]


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
    webhook_sender: WebhookSender | None = None,
) -> Starlette:
    """Build the sandbox app.

    Args:
        api_key: The only `x-api-key` the REST API accepts (required, not blank).
        max_concurrent: Active conversations allowed at once.
        words_per_second: The simulated replica's speaking speed.
        twins: Replicas also send the newer `pal` twins of their events.
        tool_timeout: Seconds a replica waits for a tool result.
        webhook_sender: Delivers webhooks (a default one when None).

    Returns:
        A Starlette app serving `/v2/...` (REST), `/rooms/{id}` (page) and `/rooms/{id}/ws`.

    Raises:
        ValueError: `api_key` is blank (the API is never open to any key).
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
    )
    registry.runtime = runtime
    sandbox = Sandbox(hub=hub, registry=registry, runtime=runtime)

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        yield
        await sandbox.aclose()

    app = Starlette(
        routes=[Mount("/v2", routes=rest_routes(registry)), *room_routes(hub)],
        lifespan=lifespan,
    )
    app.state.sandbox = sandbox
    return app


def sandbox_of(app: Starlette) -> Sandbox:
    """The `Sandbox` behind an app made by `create_sandbox_app`."""
    sandbox: Sandbox = app.state.sandbox
    return sandbox
