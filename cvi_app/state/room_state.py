"""The room page: one live conversation, its controls and its live feeds.

Fast-changing values live in small states of their own (`SpeakingState`, `FeedState`) so each
event sends only what changed. The stream is a background task per tab that drains the
conversation's bus subscription in batches, coalescing bursts into one state update.
"""

from __future__ import annotations

import logging
from typing import Any

import reflex as rx

from cvi_app.live.history import recent_updates
from cvi_app.live.manager import describe_error, get_manager
from cvi_app.live.presenter import TranscriptPresenter, event_row, tool_row
from cvi_app.live.session import SpeakingState as SpeakingTracker
from cvi_app.live.updates import EventReceived, LiveUpdate, Notice, StatusChanged, ToolCallUpdate
from cvi_app.state.app_state import AppState
from cvi_app.state.feed import empty_feed, push_feed, reset_feed

logger = logging.getLogger(__name__)

MAX_TOOL_ROWS = 20
SENSITIVITY_LEVELS = ["superlow", "verylow", "low", "medium", "high", "auto"]


class SpeakingState(rx.State):
    """Who is speaking right now (changes often; kept tiny)."""

    replica: bool = False
    user: bool = False


class FeedState(rx.State):
    """The transcript and event-log feeds: windows of recent updates, constant in size."""

    transcript: dict[str, Any] = empty_feed()
    events: dict[str, Any] = empty_feed()
    # Each feed numbers its own updates: the browser detects a missed update by a gap.
    _transcript_u: int = 0
    _events_u: int = 0


class RoomState(rx.State):
    """One conversation's room: status, call URL, controls."""

    status: str = "loading"
    end_reason: str = ""
    join_url: str = ""
    message: str = ""
    context: str = ""
    event_filter: str = ""
    pause_sensitivity: str = "auto"
    interrupt_sensitivity: str = "auto"
    tool_calls: list[dict[str, str]] = []
    sending: bool = False
    error: str = ""
    notice: str = ""
    tool_answer: str = ""
    _notice_topic: str = ""
    _stream_id: int = 0

    @rx.var
    def conversation_id(self) -> str:
        """The conversation in the URL."""
        return str(self.router.page.params.get("conversation_id", ""))

    @rx.var
    def live(self) -> bool:
        """Whether controls can be used."""
        return self.status == "live"

    # ---- loading and streaming ------------------------------------------------------

    @rx.event
    async def load(self):
        """Check this browser may see the conversation, restore its history, start the stream."""
        app = await self.get_state(AppState)
        owner = app.ensure_owner()
        manager = get_manager()
        cid = self.conversation_id
        try:
            await manager.check_owner(cid, owner=owner)
        except Exception as exc:
            self.status = "forbidden"
            self.error = describe_error(exc)
            return
        session = manager.live_session(cid)
        self.join_url = manager.join_url(cid)
        self.status = session.status if session else "ended"
        self.end_reason = (session.end_reason or "") if session else ""
        self._stream_id += 1
        return RoomState.stream(self._stream_id)

    @rx.event(background=True)
    async def stream(self, stream_id: int):
        """Restore the history, then follow the conversation's updates until it ends."""
        manager = get_manager()
        cid = self.conversation_id
        subscription = manager.bus.subscribe(cid)
        presenter = TranscriptPresenter()
        try:
            history = await recent_updates(cid)
            async with self:
                await self._apply(history, presenter, reset=True)
            if manager.live_session(cid) is None:
                return
            async for batch in subscription.batches():
                async with self:
                    if self._stream_id != stream_id:
                        return
                    await self._apply(batch, presenter, reset=False)
                    if self.status == "ended":
                        return
        except Exception:
            logger.exception("room %s: the live stream failed", cid)
            raise
        finally:
            subscription.close()

    async def _apply(
        self, updates: list[LiveUpdate], presenter: TranscriptPresenter, *, reset: bool
    ) -> None:
        lines: list[dict[str, Any]] = []
        rows: list[dict[str, Any]] = []
        tracker = SpeakingTracker()
        speaking = await self.get_state(SpeakingState)
        tracker.replica, tracker.user = speaking.replica, speaking.user
        tools = {row["id"]: row for row in self.tool_calls}
        for update in updates:
            lines.extend(presenter.lines(update))
            row = event_row(update)
            if row is not None:
                rows.append(row)
            if isinstance(update, EventReceived):
                tracker.apply(update.event)
            elif isinstance(update, ToolCallUpdate):
                tools[update.tool_call_id] = tool_row(update)
            elif isinstance(update, StatusChanged):
                self.status = update.status
                self.end_reason = update.reason or ""
            elif isinstance(update, Notice):
                self._show_notice(update)
        if self.status == "ended":
            tracker.replica = tracker.user = False
            self.notice, self._notice_topic = "", ""
        if (speaking.replica, speaking.user) != (tracker.replica, tracker.user):
            speaking.replica, speaking.user = tracker.replica, tracker.user
        tool_rows = list(tools.values())[-MAX_TOOL_ROWS:]
        if tool_rows != self.tool_calls:  # assign only on change: every assignment is a delta
            self.tool_calls = tool_rows
        feeds = await self.get_state(FeedState)
        if reset:
            feeds.transcript = reset_feed(feeds.transcript, _merge(lines), feeds._transcript_u)
            feeds.events = reset_feed(feeds.events, rows, feeds._events_u)
            return
        if lines:
            feeds.transcript, feeds._transcript_u = push_feed(
                feeds.transcript, lines, feeds._transcript_u
            )
        if rows:
            feeds.events, feeds._events_u = push_feed(feeds.events, rows, feeds._events_u)

    def _show_notice(self, notice: Notice) -> None:
        """Show a problem while it lasts; its all-clear removes it."""
        if notice.active:
            self.notice, self._notice_topic = notice.text, notice.topic
        elif self._notice_topic == notice.topic:
            self.notice, self._notice_topic = "", ""

    @rx.event
    async def resync(self, _last: int):
        """The browser missed updates: rebuild its feeds from the store."""
        self._stream_id += 1
        return RoomState.stream(self._stream_id)

    # ---- controls -------------------------------------------------------------------

    @rx.event
    def set_message(self, value: str) -> None:
        """Keep the message box's text."""
        self.message = value

    @rx.event
    def set_context(self, value: str) -> None:
        """Keep the context box's text."""
        self.context = value

    @rx.event
    def set_event_filter(self, value: str) -> None:
        """Show only events whose type contains `value`."""
        self.event_filter = value

    async def _session(self):
        app = await self.get_state(AppState)
        return get_manager().session_for(self.conversation_id, owner=app.owner)

    async def _run(self, action: str, *args: Any, clear_message: bool = False, **kwargs: Any):
        try:
            session = await self._session()
            await getattr(session, action)(*args, **kwargs)
        except Exception as exc:  # every refusal reaches the person as a toast
            logger.info("room %s: %s refused: %s", self.conversation_id, action, exc)
            return rx.toast.error(describe_error(exc))
        if clear_message:
            self.message = ""
        return None

    @rx.event
    async def respond(self):
        """Send the message as the user's turn."""
        return await self._run("respond", self.message, clear_message=True)

    @rx.event
    async def echo(self):
        """Make the replica say the message verbatim."""
        return await self._run("echo", self.message, clear_message=True)

    @rx.event
    async def interrupt(self):
        """Make the replica stop talking."""
        return await self._run("interrupt")

    @rx.event
    async def overwrite_context(self):
        """Replace the replica's context with the context box."""
        return await self._run("overwrite_context", self.context)

    @rx.event
    async def append_context(self):
        """Add the context box to the replica's context."""
        return await self._run("append_context", self.context)

    @rx.event
    async def set_pause_sensitivity(self, value: str):
        """Change how long a pause ends the user's turn."""
        self.pause_sensitivity = value
        return await self._run("set_sensitivity", pause=value)

    @rx.event
    async def set_interrupt_sensitivity(self, value: str):
        """Change how easily the user interrupts the replica."""
        self.interrupt_sensitivity = value
        return await self._run("set_sensitivity", interrupt=value)

    @rx.event
    async def upload_echo_audio(self, files: list[rx.UploadFile]):
        """Echo an uploaded WAV file (converted to 16-bit mono PCM)."""
        from cvi_app.live.audio import AudioError, wav_to_pcm16_mono

        if not files:
            return rx.toast.error("Choose a WAV file first.")
        data = await files[0].read()
        try:
            pcm, rate = wav_to_pcm16_mono(data)
        except AudioError as exc:
            return rx.toast.error(str(exc))
        return await self._run("echo_audio", pcm, sample_rate=rate)

    @rx.var
    def unanswered_tool_calls(self) -> list[str]:
        """Ids of tool calls no built-in tool handles, waiting for the person's answer."""
        return [row["id"] for row in self.tool_calls if row["status"] == "unhandled"]

    @rx.event
    def set_tool_answer(self, value: str) -> None:
        """Keep the tool answer box's text."""
        self.tool_answer = value

    @rx.event
    async def answer_tool_call(self, tool_call_id: str):
        """Send the tool answer box as the result of a waiting tool call."""
        if not self.tool_answer.strip():
            return rx.toast.error("Write the tool's result first.")
        toast = await self._run("send_tool_result", tool_call_id, self.tool_answer)
        if toast is None:
            self.tool_answer = ""
        return toast

    @rx.event
    async def end(self):
        """End the conversation for everyone."""
        app = await self.get_state(AppState)
        try:
            await get_manager().end_conversation(self.conversation_id, owner=app.owner)
        except Exception as exc:
            return rx.toast.error(describe_error(exc))
        return None


def _merge(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Fold partial line updates into whole lines (for a reset, sent in one piece)."""
    merged: dict[str, dict[str, Any]] = {}
    for line in lines:
        merged[line["id"]] = {**merged.get(line["id"], {}), **line}
    return list(merged.values())
