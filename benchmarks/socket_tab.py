"""A light room-page subscriber: Reflex's own websocket protocol, without a browser.

To the backend it is a tab: it connects to `/_event` with its own client token and the browser's
cookies (the server-minted owner cookie among them) and sends the same socket.io CONNECT packet
a Chromium room page sends (the hydrate-and-load event with the page's route), captured from a
real page and given this tab's conversation. The backend then runs the room page's `on_load` for it (ownership check, history,
the live stream) and sends it every state delta, exactly as to a browser. It answers the
server's pings, counts payload bytes, and notes when each event row's `seq` first arrives
(the benchmark pairs it with the `timestamp` the replica stamped on the event).

Nothing is rendered, so its latency stops where a browser's would start parsing the frame.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import re
import time
import uuid
from typing import Any
from urllib.parse import urlsplit

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Origin

EVENT_SLOT = re.compile(r"events_\d+_rx_state_")
EVENT_PREFIX = "42/_event,"
CONNECT_PREFIX = "40/_event,"


def retarget(connect_auth: dict[str, Any], conversation_id: str) -> dict[str, Any]:
    """A copy of a room page's CONNECT payload, for another conversation's room page."""
    auth = copy.deepcopy(connect_auth)
    path = f"/room/{conversation_id}"
    router = auth["event"]["router_data"]
    router.update(pathname=path, asPath=path, query={"conversation_id": conversation_id})
    return auth


class SocketTab:
    """One subscriber: connect, hydrate as a room page, record deltas until closed."""

    def __init__(self, app_url: str, connect_auth: dict[str, Any], *, cookie: str = "") -> None:
        parts = urlsplit(app_url)
        self.cookie = cookie
        self.token = str(uuid.uuid4())
        self.url = f"ws://{parts.netloc}/_event/?token={self.token}&EIO=4&transport=websocket"
        self.origin = Origin(f"{parts.scheme}://{parts.netloc}")
        self.connect_auth = connect_auth
        self.frames: list[tuple[float, int]] = []
        self.seq_arrival: dict[int, float] = {}
        """seq -> arrival (time.time() in ms) of the first frame carrying its row."""
        self._ws: ClientConnection | None = None
        self._reader: asyncio.Task[None] | None = None

    async def __aenter__(self) -> SocketTab:
        headers = {"Cookie": self.cookie} if self.cookie else None
        self._ws = await connect(
            self.url,
            max_size=None,
            compression=None,
            additional_headers=headers,
            origin=self.origin,
        )
        opening = await self._ws.recv()
        if not str(opening).startswith("0"):
            raise RuntimeError(f"not an Engine.IO open packet: {str(opening)[:80]}")
        await self._ws.send(CONNECT_PREFIX + json.dumps(self.connect_auth))
        self._reader = asyncio.get_running_loop().create_task(self._read())
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        if self._ws is not None:
            await self._ws.close()

    @property
    def rows_seen(self) -> int:
        return len(self.seq_arrival)

    async def _read(self) -> None:
        assert self._ws is not None
        try:
            async for message in self._ws:
                now = time.time() * 1000
                text = message if isinstance(message, str) else message.decode()
                if text == "2":  # Engine.IO ping
                    await self._ws.send("3")
                    continue
                self.frames.append((now, len(text.encode())))
                if text.startswith(EVENT_PREFIX) and '"events_' in text:
                    self._note_rows(text, now)
        except ConnectionClosed:
            return

    def _note_rows(self, text: str, now: float) -> None:
        payload = json.loads(text[len(EVENT_PREFIX) :])
        for substate in payload[1].get("delta", {}).values():
            for name, value in substate.items():
                rows = _event_rows(name, value)
                for row in rows:
                    seq = row.get("seq")
                    if isinstance(seq, int) and seq not in self.seq_arrival:
                        self.seq_arrival[seq] = now

    def latencies(self, *, after_seq: int, stamps: dict[int, float]) -> list[float]:
        """Event `timestamp` (`stamps`, Unix s by seq) -> first frame with its row, in ms."""
        return [
            arrival - stamps[seq] * 1000
            for seq, arrival in self.seq_arrival.items()
            if seq > after_seq and seq in stamps
        ]


def _event_rows(name: str, value: Any) -> list[dict[str, Any]]:
    """The event-log rows a delta's var carries: the feed's history or one ring slot's push."""
    if name == "events_rx_state_" and isinstance(value, dict):
        return [row for row in value.get("items", []) if isinstance(row, dict)]
    if EVENT_SLOT.fullmatch(name) and isinstance(value, list):
        return [row for row in value if isinstance(row, dict)]
    return []


async def wait_rows(tab: SocketTab, count: int, *, within: float) -> bool:
    """Wait until `tab` has seen `count` event rows; False on timeout."""
    deadline = time.monotonic() + within
    while tab.rows_seen < count:
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


async def cookie_header(context: Any, url: str) -> str:
    """The `Cookie` header a Playwright browser context sends to `url` (HttpOnly ones included)."""
    cookies = await context.cookies(url)
    return "; ".join(f"{c['name']}={c['value']}" for c in cookies)
