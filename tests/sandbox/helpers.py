"""Real servers and real WebSocket clients for the sandbox tests (no mocks)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import time
from collections.abc import AsyncIterator, Callable
from typing import Any
from urllib.parse import urlencode

import uvicorn
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

WAIT = 10.0
"""Seconds any single wait for a condition may take before the test fails."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.asynccontextmanager
async def serve(app: Any) -> AsyncIterator[str]:
    """Run an ASGI app under uvicorn on a free 127.0.0.1 port, in this event loop."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    await wait_for(lambda: server.started or task.done(), what="uvicorn to start")
    if task.done():
        task.result()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, WAIT)


async def wait_for(
    condition: Callable[[], object], *, what: str = "condition", timeout: float = WAIT
) -> None:
    """Poll `condition` until it is true; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


class RoomClient:
    """A participant connected to a room over the real WebSocket."""

    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection
        self.me: dict[str, Any] | None = None
        self.participants: list[dict[str, Any]] = []

    @property
    def id(self) -> str:
        assert self.me is not None, "not joined"
        return str(self.me["id"])

    async def recv(self, timeout: float = WAIT) -> dict[str, Any]:
        raw = await asyncio.wait_for(self.connection.recv(), timeout)
        frame: dict[str, Any] = json.loads(raw)
        return frame

    async def recv_type(self, *types: str, timeout: float = WAIT) -> dict[str, Any]:
        """The next frame whose type is one of `types` (others are skipped)."""
        deadline = time.monotonic() + timeout
        while True:
            frame = await self.recv(max(deadline - time.monotonic(), 0.001))
            if frame["type"] in types:
                return frame

    async def next_event(self, timeout: float = WAIT) -> dict[str, Any]:
        """The data of the next app-message (skipping presence frames)."""
        frame = await self.recv_type("app-message", timeout=timeout)
        data: dict[str, Any] = frame["data"]
        return data

    async def events_until(
        self, last: Callable[[dict[str, Any]], bool], timeout: float = WAIT
    ) -> list[dict[str, Any]]:
        """App-message data received up to and including the first one `last` accepts."""
        deadline = time.monotonic() + timeout
        events = []
        while True:
            event = await self.next_event(max(deadline - time.monotonic(), 0.001))
            events.append(event)
            if last(event):
                return events

    async def send_frame(self, frame: dict[str, Any] | str) -> None:
        await self.connection.send(frame if isinstance(frame, str) else json.dumps(frame))

    async def send(self, data: dict[str, Any], to: str = "*") -> None:
        await self.send_frame({"type": "app-message", "data": data, "to": to})

    async def say(self, text: str, conversation_id: str | None = None) -> None:
        speech: dict[str, Any] = {
            "message_type": "sandbox",
            "event_type": "sandbox.user_speech",
            "properties": {"text": text},
        }
        if conversation_id:
            speech["conversation_id"] = conversation_id
        await self.send(speech)

    async def closed(self, timeout: float = WAIT) -> tuple[int | None, str]:
        """Wait for the server to close the connection; return its close code and reason."""
        with contextlib.suppress(ConnectionClosed):
            while True:
                await asyncio.wait_for(self.connection.recv(), timeout)
        await asyncio.wait_for(self.connection.wait_closed(), timeout)
        return self.connection.close_code, self.connection.close_reason or ""


@contextlib.asynccontextmanager
async def room_client(
    base_url: str,
    conversation_id: str,
    *,
    user_name: str = "guest",
    token: str | None = None,
    prefix: str = "",
    expect_joined: bool = True,
) -> AsyncIterator[RoomClient]:
    """Connect to a room's WebSocket; by default wait for the `joined` frame."""
    query = {"user_name": user_name}
    if token is not None:
        query["t"] = token
    url = base_url.replace("http://", "ws://") + f"{prefix}/rooms/{conversation_id}/ws"
    async with connect(f"{url}?{urlencode(query)}", open_timeout=WAIT) as connection:
        client = RoomClient(connection)
        if expect_joined:
            joined = await client.recv()
            assert joined["type"] == "joined", joined
            client.me = joined["participant"]
            client.participants = joined["participants"]
        yield client


def event_types(events: list[dict[str, Any]]) -> list[str]:
    return [event["event_type"] for event in events]
