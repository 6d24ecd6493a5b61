"""A browser that does not own a conversation sends every handler that reads or drives it, with
the conversation's id forged into the event's route, over Reflex's own websocket protocol: it
receives nothing of the conversation, and nothing it sends has an effect.

The stranger is a real browser context (its server-minted, HttpOnly owner cookie taken with
`context.cookies()`); its socket connects like a tab (`benchmarks/socket_tab.py`): the CONNECT
packet a real room page sent, then one event frame per handler, each routed at the owner's room.
"""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from typing import Any
from urllib.parse import urlsplit

import httpx
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlalchemy import create_engine, text
from websockets.sync.client import ClientConnection, connect

from cvi_app.state.conversation_state import ConversationState, TimelinePager, TranscriptPager
from cvi_app.state.history_state import HistoryState
from cvi_app.state.room_controls import RoomControlsState
from cvi_app.state.room_state import RoomState
from tests.browser.pages import start_conversation

LONG = 30_000
CONNECT_PREFIX = "40/_event,"
EVENT_PREFIX = "42/_event,"
SECRET_LINE = "The owner's private line"
LIVE_LINE = "Said while the stranger listens"
INJECTED = "Injected by a stranger"


def _say(page: Page, line: str) -> None:
    page.get_by_role("textbox", name="Message").fill(line)
    page.get_by_role("button", name="Respond", exact=True).click()
    transcript = page.get_by_role("log", name="Transcript")
    expect(transcript.get_by_text(line, exact=True)).to_be_visible(timeout=LONG)


def _capture_connect(context: BrowserContext, url: str) -> dict[str, Any]:
    """Open `url` in the stranger's browser and keep the CONNECT packet its page sent."""
    page = context.new_page()
    sent: list[str] = []

    def on_socket(ws: Any) -> None:
        if "/_event" in ws.url:
            ws.on("framesent", lambda payload: sent.append(str(payload)))

    page.on("websocket", on_socket)
    page.goto(url)
    expect(page.get_by_role("alert")).to_contain_text("No conversation with this id", timeout=LONG)
    page.close()
    [packet] = [frame for frame in sent if frame.startswith(CONNECT_PREFIX)][:1]
    return dict(json.loads(packet[len(CONNECT_PREFIX) :]))


def _handler(state: Any, name: str) -> str:
    return f"{state.get_full_name()}.{name}"


def _forged_events(cid: str) -> list[tuple[str, dict[str, Any], str]]:
    """(handler, payload, page route) for every handler that reads or drives a conversation."""
    room, history = f"/room/{cid}", f"/history/{cid}"
    events = [(_handler(RoomControlsState, "set_message"), {"value": INJECTED}, room)]
    events += [(_handler(RoomState, "stream"), {"stream_id": n}, room) for n in range(8)]
    events += [
        (_handler(RoomState, "load"), {}, room),
        (_handler(RoomState, "resync"), {"_last": 0}, room),
        (_handler(RoomControlsState, "respond"), {}, room),
        (_handler(RoomControlsState, "echo"), {}, room),
        (_handler(RoomControlsState, "interrupt"), {}, room),
        (_handler(RoomControlsState, "set_context"), {"value": INJECTED}, room),
        (_handler(RoomControlsState, "overwrite_context"), {}, room),
        (_handler(RoomControlsState, "append_context"), {}, room),
        (_handler(RoomControlsState, "set_pause_sensitivity"), {"value": "low"}, room),
        (_handler(RoomControlsState, "set_interrupt_sensitivity"), {"value": "high"}, room),
        (_handler(RoomControlsState, "set_tool_answer"), {"value": INJECTED}, room),
        (_handler(RoomControlsState, "answer_tool_call"), {"tool_call_id": "call-1"}, room),
        (_handler(RoomControlsState, "end"), {}, room),
        (_handler(ConversationState, "load"), {}, history),
        (_handler(TranscriptPager, "load"), {}, history),
        (_handler(TranscriptPager, "older"), {}, history),
        (_handler(TranscriptPager, "newer"), {}, history),
        (_handler(TranscriptPager, "set_source"), {"value": "official"}, history),
        (_handler(TimelinePager, "load"), {}, history),
        (_handler(TimelinePager, "older"), {}, history),
        (_handler(TimelinePager, "newer"), {}, history),
        (_handler(HistoryState, "load"), {}, "/history"),
    ]
    return events


def _route(path: str, cid: str) -> dict[str, Any]:
    query = {"conversation_id": cid} if cid in path else {}
    return {"pathname": path, "asPath": path, "query": query}


class StrangerSocket:
    """The stranger's tab over the websocket: every frame the server sends it is kept."""

    def __init__(self, app_url: str, cookie: str) -> None:
        parts = urlsplit(app_url)
        self.token = str(uuid.uuid4())
        self.url = f"ws://{parts.netloc}/_event/?token={self.token}&EIO=4&transport=websocket"
        self.origin, self.cookie = app_url, cookie
        self.received: list[str] = []
        self.socket: ClientConnection | None = None

    def __enter__(self) -> StrangerSocket:
        self._stack = contextlib.ExitStack()
        self.socket = self._stack.enter_context(
            connect(
                self.url,
                origin=self.origin,  # type: ignore[arg-type]
                additional_headers={"Cookie": self.cookie},
                max_size=None,
            )
        )
        assert str(self.socket.recv(timeout=10)).startswith("0")
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def send(self, packet: str) -> None:
        assert self.socket is not None
        self.socket.send(packet)

    def read_for(self, seconds: float) -> None:
        assert self.socket is not None
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                frame = str(self.socket.recv(timeout=left))
            except TimeoutError:
                return
            if frame == "2":
                self.socket.send("3")  # Engine.IO pong
                continue
            self.received.append(frame)

    def deltas(self) -> list[dict[str, Any]]:
        found = []
        for frame in self.received:
            if frame.startswith(EVENT_PREFIX):
                name, payload, *_ = json.loads(frame[len(EVENT_PREFIX) :])
                if name == "event" and isinstance(payload, dict):
                    found.append(payload.get("delta") or {})
        return found


def _leaks(deltas: list[dict[str, Any]]) -> list[str]:
    """Every piece of a conversation a delta carries: feed rows, tool rows, a join URL, history."""
    leaks = []
    for delta in deltas:
        for state, values in delta.items():
            for var, value in values.items():
                name = var.removesuffix("_rx_state_")
                feed = name.rsplit("_", 1)[0] if name[-1].isdigit() else name
                if feed in ("transcript", "events") and (value if name != feed else value["items"]):
                    leaks.append(f"{state}.{name}: {str(value)[:120]}")
                elif name in ("join_url", "tool_calls", "rows", "info", "webhooks") and value:
                    leaks.append(f"{state}.{name}: {str(value)[:120]}")
                elif name == "access" and value == "ok":
                    leaks.append(f"{state}.access ok")
    return leaks


def _sent_rows(db_url: str, cid: str) -> int:
    engine = create_engine(db_url)
    try:
        with engine.connect() as connection:
            return connection.execute(
                text(
                    "SELECT count(*) FROM conversation_event "
                    "WHERE conversation_id = :cid AND source = 'app'"
                ),
                {"cid": cid},
            ).scalar_one()
    finally:
        engine.dispose()


def test_a_stranger_sending_every_handler_gets_nothing_and_changes_nothing(
    page: Page, browser: Browser, app_server
) -> None:
    cid = start_conversation(page, app_server.url)
    _say(page, SECRET_LINE)
    stranger = browser.new_context()
    try:
        auth = _capture_connect(stranger, f"{app_server.url}/room/{cid}")
        cookies = stranger.cookies(app_server.url)
        assert any(c["httpOnly"] for c in cookies), "the owner cookie is HttpOnly"
        cookie = "; ".join(f"{c['name']}={c['value']}" for c in cookies)
        sent_before = _sent_rows(app_server.db_url, cid)

        with StrangerSocket(app_server.url, cookie) as socket:
            socket.send(CONNECT_PREFIX + json.dumps(auth))
            socket.read_for(2)
            for name, payload, path in _forged_events(cid):
                event = {"name": name, "payload": payload, "router_data": _route(path, cid)}
                socket.send(EVENT_PREFIX + json.dumps(["event", event]))
            socket.read_for(2)
            upload = httpx.post(
                f"{app_server.url}/_upload",
                headers={
                    "reflex-client-token": socket.token,
                    "reflex-event-handler": _handler(RoomControlsState, "upload_echo_audio"),
                    "Cookie": cookie,
                },
                files={"files": ("a.wav", b"RIFF" + b"\0" * 200_000, "audio/wav")},
                timeout=30,
            )
            _say(page, LIVE_LINE)  # a live line while the stranger's handlers would stream
            socket.read_for(3)

        everything = "\n".join(socket.received)
        assert socket.deltas(), "the stranger's socket was answered at all"
        assert _leaks(socket.deltas()) == []
        for secret in (SECRET_LINE, LIVE_LINE, "conversation.utterance", "meeting_token"):
            assert secret not in everything, f"{secret!r} reached the stranger"
        assert upload.status_code >= 400 or "Echo" not in upload.text
    finally:
        stranger.close()

    # Nothing the stranger sent reached the room: the call is live, no send was recorded
    # beyond the owner's own line, and the owner's transcript has nothing injected.
    expect(page.locator("#room-status")).to_have_attribute("data-status", "live")
    assert _sent_rows(app_server.db_url, cid) == sent_before + 1
    transcript = page.get_by_role("log", name="Transcript")
    expect(transcript.get_by_text(INJECTED)).to_have_count(0)
    expect(transcript.locator("[data-role=replica]", has_text="[audio")).to_have_count(0)
