"""Real servers and real WebSocket clients for the sandbox tests (no mocks)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Callable
from typing import Any
from urllib.parse import urlencode

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.support.servers import WAIT, serve, wait_for


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

    async def recv(self, within: float = WAIT) -> dict[str, Any]:
        raw = await asyncio.wait_for(self.connection.recv(), within)
        frame: dict[str, Any] = json.loads(raw)
        return frame

    async def recv_type(self, *types: str, within: float = WAIT) -> dict[str, Any]:
        """The next frame whose type is one of `types` (others are skipped)."""
        deadline = time.monotonic() + within
        while True:
            frame = await self.recv(max(deadline - time.monotonic(), 0.001))
            if frame["type"] in types:
                return frame

    async def next_event(self, within: float = WAIT) -> dict[str, Any]:
        """The data of the next app-message (skipping presence frames)."""
        frame = await self.recv_type("app-message", within=within)
        data: dict[str, Any] = frame["data"]
        return data

    async def events_until(
        self, last: Callable[[dict[str, Any]], bool], within: float = WAIT
    ) -> list[dict[str, Any]]:
        """App-message data received up to and including the first one `last` accepts."""
        deadline = time.monotonic() + within
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

    async def closed(self, within: float = WAIT) -> tuple[int | None, str]:
        """Wait for the server to close the connection; return its close code and reason."""
        with contextlib.suppress(ConnectionClosed):
            while True:
                await asyncio.wait_for(self.connection.recv(), within)
        await asyncio.wait_for(self.connection.wait_closed(), within)
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


class WebhookReceiver:
    """A tiny real HTTP server that keeps every webhook POSTed to it.

    `fail_next(n, status)` makes the next `n` deliveries fail with `status` (to test retries).
    """

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.attempts = 0
        self._failures: list[int] = []
        self.base_url = ""

    @property
    def url(self) -> str:
        return f"{self.base_url}/hooks/secret-path"

    def fail_next(self, count: int, status: int = 500) -> None:
        self._failures.extend([status] * count)

    def app(self) -> Any:
        from starlette.applications import Starlette
        from starlette.requests import Request
        from starlette.responses import JSONResponse
        from starlette.routing import Route

        async def hook(request: Request) -> JSONResponse:
            self.attempts += 1
            if self._failures:
                return JSONResponse({"error": "try later"}, status_code=self._failures.pop(0))
            self.received.append(await request.json())
            return JSONResponse({"ok": True})

        return Starlette(routes=[Route("/hooks/secret-path", hook, methods=["POST"])])

    def of_type(self, event_type: str) -> list[dict[str, Any]]:
        return [hook for hook in self.received if hook["event_type"] == event_type]

    async def wait_for_type(self, event_type: str) -> dict[str, Any]:
        await wait_for(lambda: self.of_type(event_type), what=f"webhook {event_type}")
        return self.of_type(event_type)[0]


@contextlib.asynccontextmanager
async def webhook_receiver() -> AsyncIterator[WebhookReceiver]:
    receiver = WebhookReceiver()
    async with serve(receiver.app()) as url:
        receiver.base_url = url
        yield receiver
