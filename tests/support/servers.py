"""Real servers for tests: an ASGI app under uvicorn on a free 127.0.0.1 port, and a polling wait.

`serve_asgi` runs the server in a background thread (for sync tests and session-wide servers);
`serve` runs it in the current event loop (for async tests that also drive the app's objects).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, Literal

import uvicorn

__all__ = ["WAIT", "free_port", "serve", "serve_asgi", "wait_for"]

WAIT = 10.0
"""Seconds any single wait for a condition may take before the test fails."""

Lifespan = Literal["auto", "on", "off"]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _listening_socket(port: int = 0) -> socket.socket:
    """A socket bound to 127.0.0.1:`port` (0: any free port), for uvicorn to listen on.

    Binding before the server starts means the port cannot be taken in between.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted connections inherit this; without it each answer waits for a delayed ACK (~40ms).
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind(("127.0.0.1", port))
    return sock


def _uvicorn(app: Any, lifespan: Lifespan) -> uvicorn.Server:
    return uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan=lifespan))


@contextlib.contextmanager
def serve_asgi(
    app: Any, *, lifespan: Lifespan = "off", startup_timeout: float = 10.0
) -> Iterator[str]:
    """Serve an ASGI app with uvicorn in a background thread; yield `http://127.0.0.1:PORT`.

    The server is stopped (and its thread joined) when the block ends.

    Args:
        app: The ASGI application.
        lifespan: uvicorn's lifespan mode ("off": the app's startup/shutdown are not run).
        startup_timeout: Seconds the server may take to start before `RuntimeError`.
    """
    sock = _listening_socket()
    port = sock.getsockname()[1]
    server = _uvicorn(app, lifespan)
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


@contextlib.asynccontextmanager
async def serve(app: Any, *, lifespan: Lifespan = "on", port: int = 0) -> AsyncIterator[str]:
    """Serve an ASGI app with uvicorn in this event loop; yield `http://127.0.0.1:PORT`.

    The server is stopped when the block ends.

    Args:
        app: The ASGI application.
        lifespan: uvicorn's lifespan mode ("off" keeps the app's state across a restart).
        port: The port to listen on (to restart a server where clients expect it); 0 for any
            free port.
    """
    sock = _listening_socket(port)
    port = sock.getsockname()[1]
    server = _uvicorn(app, lifespan)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        await wait_for(lambda: server.started or task.done(), what="uvicorn to start")
        if not server.started:
            task.result()  # raises what stopped it, if anything did
            raise RuntimeError(f"test server on port {port} did not start")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, WAIT)
        sock.close()


async def wait_for(
    condition: Callable[[], object], *, what: str = "condition", within: float = WAIT
) -> None:
    """Poll `condition` until it holds; fail the test after `within` seconds.

    Args:
        condition: Called every 10 ms; any true value ends the wait.
        what: What is awaited, for the failure message.
        within: Seconds to wait before failing with `AssertionError`.
    """
    deadline = time.monotonic() + within
    # Conditions span servers, rooms, sessions and stores; polling keeps tests simple.
    while not condition():  # noqa: ASYNC110
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)
