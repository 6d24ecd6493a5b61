"""The room page: one live conversation, its controls and its live feeds.

Fast-changing values live in small states of their own (`SpeakingState`, `FeedState`) so each
event sends only what changed. The stream is a background task per tab that restores the
conversation gap-free (`cvi_app.live.history.restore`), then drains its bus subscription in
batches, coalescing bursts into one state update.

Every handler that reads or drives the conversation checks, itself, that this tab's owner may
use the conversation named in the event's URL (the client sends that with every event, so a
check when the page loaded proves nothing), and sends nothing about it otherwise. Handlers that
wait on the network or the database are background events: the state lock is held only for
short reads and writes of the state, and the control being sent shows as pending.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

import reflex as rx

from cvi_app.live.audio import (
    MAX_WAV_BYTES,
    AudioError,
    read_capped,
    too_large_message,
    wav_to_pcm16_mono,
)
from cvi_app.live.history import restore
from cvi_app.live.manager import describe_error, get_manager
from cvi_app.live.presenter import TranscriptPresenter, event_row, tool_row
from cvi_app.live.session import ConversationSession
from cvi_app.live.session import SpeakingState as SpeakingTracker
from cvi_app.live.updates import (
    EventReceived,
    InteractionSent,
    LiveUpdate,
    Notice,
    StatusChanged,
    ToolCallUpdate,
)
from cvi_app.protocol import EchoInteraction
from cvi_app.state.app_state import AppState
from cvi_app.state.feed import empty_feed, push_feed, reset_feed
from cvi_app.store.conversations import get_conversation
from cvi_app.store.db import get_engine, run_in_transaction

logger = logging.getLogger(__name__)

MAX_TOOL_ROWS = 20


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


class RoomPresenter(TranscriptPresenter):
    """The room's presenter: an audio echo is one short line and one row, never its audio.

    An audio echo arrives as many chunks of base64 audio; only the last one shows, as
    "audio echo, 12.3 s" (the length counted over its chunks).
    """

    _MEMORY = 16

    def __init__(self) -> None:
        super().__init__()
        self._audio_bytes: OrderedDict[str, int] = OrderedDict()

    def audio_echo(self, update: LiveUpdate) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
        """The line and row an audio echo chunk makes (none until its last chunk)."""
        assert isinstance(update, InteractionSent)
        assert isinstance(update.interaction, EchoInteraction)
        props = update.interaction.properties
        key = props.inference_id or "echo"
        size = self._audio_bytes.pop(key, 0) + _decoded_size(props.audio or "")
        if not props.done:
            self._audio_bytes[key] = size
            while len(self._audio_bytes) > self._MEMORY:
                self._audio_bytes.popitem(last=False)
            return [], None
        label = f"audio echo, {size / 2 / (props.sample_rate or 24000):.1f} s"
        # Remembered as the echo's text, so the replica's own utterance of it ("[audio 0.5s]")
        # does not replace the line, whichever arrives first.
        self._echo_text[key] = f"[{label}]"
        while len(self._echo_text) > self._MEMORY:
            self._echo_text.popitem(last=False)
        line = {"id": f"r-{key}", "role": "replica", "text": f"[{label}]", "echo": True}
        row = {
            "id": f"s-audio-{key}",
            "type": "sent conversation.echo",
            "summary": label,
            "raw": json.dumps(
                {"event_type": "conversation.echo", "modality": "audio", "inference_id": key}
            ),
        }
        return [line], row


def _is_audio_echo(update: LiveUpdate) -> bool:
    return (
        isinstance(update, InteractionSent)
        and isinstance(update.interaction, EchoInteraction)
        and update.interaction.properties.modality == "audio"
    )


def _decoded_size(b64: str) -> int:
    return len(b64) // 4 * 3 - b64[-2:].count("=")


def selected_size(upload_id: str) -> rx.Var[int]:
    """The total size in bytes of the files chosen in an upload (what the browser declares)."""
    from reflex_components_core.core.upload import get_upload_files_context_var_data

    key = json.dumps(upload_id)
    return rx.Var(
        _js_expr=f"(filesById[{key}] ? filesById[{key}].reduce((n, f) => n + f.size, 0) : 0)",
        _var_type=int,
        _var_data=get_upload_files_context_var_data(),
    )


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
    pending: list[str] = []
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

    # ---- who may -----------------------------------------------------------------------

    async def _who(self) -> tuple[str, str]:
        """The conversation this event names and this tab's owner (call under the lock)."""
        app = await self.get_state(AppState)
        return self.conversation_id, app.ensure_owner()

    async def _refuse(self, exc: BaseException) -> None:
        """Show why the room cannot be shown, and drop whatever it showed (under the lock)."""
        self._stream_id += 1  # a stream still running stops at its next update
        self.status, self.error = "forbidden", describe_error(exc)
        self.end_reason = self.join_url = self.notice = ""
        self.tool_calls = []
        feeds = await self.get_state(FeedState)
        feeds.transcript = reset_feed(feeds.transcript, [], feeds._transcript_u)
        feeds.events = reset_feed(feeds.events, [], feeds._events_u)

    # ---- loading and streaming ------------------------------------------------------

    @rx.event(background=True)
    async def load(self):
        """Check this browser may see the conversation, show its status, start the stream."""
        async with self:
            cid, owner = await self._who()
        manager = get_manager()
        try:
            await manager.check_owner(cid, owner=owner)
            session = manager.live_session(cid)
            if session is not None:
                status, reason = session.status, session.end_reason or ""
            else:
                status, reason = await _stored_status(cid)
        except Exception as exc:
            logger.info("room %s: refused: %s", cid, exc)
            async with self:
                await self._refuse(exc)
            return None
        async with self:
            if self.conversation_id != cid:
                return None  # the tab has moved on
            self.error = ""
            self.join_url = manager.join_url(cid)
            self.status, self.end_reason = status, reason
            self._stream_id += 1
            stream_id = self._stream_id
        return RoomState.stream(stream_id)

    @rx.event(background=True)
    async def stream(self, stream_id: int):
        """Restore the recent history gap-free, then follow the conversation until it ends."""
        async with self:
            if stream_id != self._stream_id:
                return None
            cid, owner = await self._who()
        manager = get_manager()
        try:
            await manager.check_owner(cid, owner=owner)
        except Exception as exc:
            async with self:
                await self._refuse(exc)
            return None
        session = manager.live_session(cid)
        restored = await restore(manager.bus, session, cid)
        presenter = RoomPresenter()
        try:
            async with self:
                if self._stream_id != stream_id:
                    return None
                await self._apply(restored.updates, presenter, reset=True)
            if session is None:
                return None
            async for batch in restored.subscription.batches():
                fresh = [update for update in batch if restored.is_new(update)]
                async with self:
                    if self._stream_id != stream_id:
                        return None
                    await self._apply(fresh, presenter, reset=False)
                    if self.status == "ended":
                        return None
                    if restored.subscription.lagged:  # updates were dropped: start over
                        self._stream_id += 1
                        return RoomState.stream(self._stream_id)
        except Exception:
            logger.exception("room %s: the live stream failed", cid)
            raise
        finally:
            restored.subscription.close()
        return None

    async def _apply(
        self, updates: list[LiveUpdate], presenter: RoomPresenter, *, reset: bool
    ) -> None:
        lines: list[dict[str, Any]] = []
        rows: list[dict[str, Any]] = []
        tracker = SpeakingTracker()
        speaking = await self.get_state(SpeakingState)
        tracker.replica, tracker.user = speaking.replica, speaking.user
        tools = {row["id"]: row for row in self.tool_calls}
        for update in updates:
            if _is_audio_echo(update):
                audio_lines, audio_row = presenter.audio_echo(update)
                lines.extend(audio_lines)
                if audio_row is not None:
                    rows.append(audio_row)
                continue
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

    @rx.event(background=True)
    async def resync(self, _last: int):
        """The browser missed updates: rebuild its feeds (gap-free) and follow on."""
        async with self:
            cid, owner = await self._who()
        try:
            await get_manager().check_owner(cid, owner=owner)
        except Exception as exc:
            async with self:
                await self._refuse(exc)
            return None
        async with self:
            if self.conversation_id != cid:
                return None
            self._stream_id += 1
            stream_id = self._stream_id
        return RoomState.stream(stream_id)

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

    async def _control(
        self,
        name: str,
        send: Callable[[ConversationSession], Awaitable[None]] | None = None,
        *,
        take: Callable[[RoomState], Any] = lambda state: None,
        done: Callable[[RoomState, Any], None] = lambda state, taken: None,
    ):
        """Run one control outside the state lock, at most one of each kind at a time.

        `take` reads what the control sends from the state (under the lock); `send(session)`
        is built from it and awaited without the lock, on the conversation's live session
        once this tab's owner is checked; `done` updates the state after a successful send.
        """
        async with self:
            if name in self.pending:
                return None  # a double click: the first one is being sent
            cid, owner = await self._who()
            taken = take(self)
            self.pending = [*self.pending, name]
        sent = False
        toast = None
        try:
            session = get_manager().session_for(cid, owner=owner)
            if send is not None:
                await send(session)
            else:
                await _send_taken(session, name, taken)
            sent = True
        except Exception as exc:  # every refusal reaches the person as a toast
            logger.info("room %s: %s refused: %s", cid, name, exc)
            toast = rx.toast.error(describe_error(exc))
        finally:
            async with self:
                self.pending = [p for p in self.pending if p != name]
                if sent:
                    done(self, taken)
        return toast

    @rx.event(background=True)
    async def respond(self):
        """Send the message as the user's turn."""
        return await self._control("respond", take=_message, done=_clear_message)

    @rx.event(background=True)
    async def echo(self):
        """Make the replica say the message verbatim."""
        return await self._control("echo", take=_message, done=_clear_message)

    @rx.event(background=True)
    async def interrupt(self):
        """Make the replica stop talking."""
        return await self._control("interrupt")

    @rx.event(background=True)
    async def overwrite_context(self):
        """Replace the replica's context with the context box."""
        return await self._control("overwrite_context", take=lambda state: state.context)

    @rx.event(background=True)
    async def append_context(self):
        """Add the context box to the replica's context."""
        return await self._control("append_context", take=lambda state: state.context)

    @rx.event(background=True)
    async def set_pause_sensitivity(self, value: str):
        """Change how long a pause ends the user's turn."""
        return await self._control(
            "pause_sensitivity",
            lambda session: session.set_sensitivity(pause=value),  # type: ignore[arg-type]
            done=lambda state, taken: setattr(state, "pause_sensitivity", value),
        )

    @rx.event(background=True)
    async def set_interrupt_sensitivity(self, value: str):
        """Change how easily the user interrupts the replica."""
        return await self._control(
            "interrupt_sensitivity",
            lambda session: session.set_sensitivity(interrupt=value),  # type: ignore[arg-type]
            done=lambda state, taken: setattr(state, "interrupt_sensitivity", value),
        )

    @rx.event(background=True)
    async def upload_echo_audio(self, chunks: rx.UploadChunkIterator, declared_size: int = 0):
        """Echo an uploaded WAV file (converted to 16-bit mono PCM).

        Nothing is read before the owner and the size the browser declared are checked; the
        upload is then read up to the size limit, and decoded in a worker thread.
        """
        async with self:
            if "audio" in self.pending:
                return rx.toast.error("An audio echo is already being sent.")
            cid, owner = await self._who()
            self.pending = [*self.pending, "audio"]
        try:
            if not isinstance(declared_size, int) or declared_size > MAX_WAV_BYTES:
                raise AudioError(too_large_message())
            session = get_manager().session_for(cid, owner=owner)
            data = await read_capped(chunks, limit=MAX_WAV_BYTES)
            if not data:
                raise AudioError("Choose a WAV file first.")
            pcm, rate = await asyncio.to_thread(wav_to_pcm16_mono, data)
            await session.echo_audio(pcm, sample_rate=rate)
        except Exception as exc:
            logger.info("room %s: audio echo refused: %s", cid, exc)
            return rx.toast.error(describe_error(exc))
        finally:
            async with self:
                self.pending = [p for p in self.pending if p != "audio"]
        return None

    @rx.var
    def unanswered_tool_calls(self) -> list[str]:
        """Ids of tool calls no built-in tool handles, waiting for the person's answer."""
        return [row["id"] for row in self.tool_calls if row["status"] == "unhandled"]

    @rx.event
    def set_tool_answer(self, value: str) -> None:
        """Keep the tool answer box's text."""
        self.tool_answer = value

    @rx.event(background=True)
    async def answer_tool_call(self, tool_call_id: str):
        """Send the tool answer box as the result of a waiting tool call."""
        async with self:
            answer = self.tool_answer
        if not answer.strip():
            return rx.toast.error("Write the tool's result first.")
        return await self._control(
            "tool_result",
            lambda session: session.send_tool_result(str(tool_call_id), answer),
            done=lambda state, taken: setattr(state, "tool_answer", ""),
        )

    @rx.event(background=True)
    async def end(self):
        """End the conversation for everyone."""
        async with self:
            if "end" in self.pending:
                return None
            cid, owner = await self._who()
            self.pending = [*self.pending, "end"]
        try:
            await get_manager().end_conversation(cid, owner=owner)
        except Exception as exc:
            logger.info("room %s: end refused: %s", cid, exc)
            return rx.toast.error(describe_error(exc))
        finally:
            async with self:
                self.pending = [p for p in self.pending if p != "end"]
        return None


def _message(state: RoomState) -> str:
    return state.message


def _clear_message(state: RoomState, sent: str) -> None:
    if state.message == sent:  # not what the person has typed since
        state.message = ""


async def _send_taken(session: ConversationSession, name: str, taken: Any) -> None:
    """The send of a control whose only input is what `take` read from the state."""
    match name:
        case "respond":
            await session.respond(taken)
        case "echo":
            await session.echo(taken)
        case "interrupt":
            await session.interrupt()
        case "overwrite_context":
            await session.overwrite_context(taken)
        case "append_context":
            await session.append_context(taken)
        case _:
            raise ValueError(f"unknown control {name!r}")


async def _stored_status(conversation_id: str) -> tuple[str, str]:
    """The status and end reason the store holds for a conversation not live here."""
    row = await run_in_transaction(
        get_engine(), lambda s: get_conversation(s, conversation_id=conversation_id)
    )
    if row is None:
        return "ended", ""
    return row.status, row.shutdown_reason or ""


def _merge(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Fold partial line updates into whole lines (for a reset, sent in one piece)."""
    merged: dict[str, dict[str, Any]] = {}
    for line in lines:
        merged[line["id"]] = {**merged.get(line["id"], {}), **line}
    return list(merged.values())
