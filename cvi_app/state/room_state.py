"""The room page: one live conversation, its controls and its live feeds.

The stream is a background task per tab that restores the conversation gap-free
(`cvi_app.live.history.restore`), then drains its bus subscription in batches; `RoomFeed`
(room_feed.py) folds each batch into what changed, and fast-changing values live in small
states of their own (`SpeakingState`, `FeedState`) so each event sends only that.

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
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

import reflex as rx

from cvi_app.live.errors import SessionError
from cvi_app.live.history import restore
from cvi_app.live.manager import get_manager
from cvi_app.live.session import ConversationSession
from cvi_app.live.updates import LiveUpdate, Notice
from cvi_app.presentation.errors import describe_error
from cvi_app.presentation.templates import interaction_template
from cvi_app.presentation.text import end_reason_sentence
from cvi_app.protocol import validate_interaction
from cvi_app.state.app_state import AppState
from cvi_app.state.room_feed import (
    FeedState,
    PresenceState,
    RoomChanges,
    RoomFeed,
    SpeakingState,
)
from cvi_app.store.conversations import get_conversation
from cvi_app.store.db import get_engine, run_in_transaction
from cvi_app.uploads.wav import (
    MAX_WAV_BYTES,
    AudioError,
    read_capped,
    too_large_message,
    wav_to_pcm16_mono,
)

logger = logging.getLogger(__name__)

STATUS_WORDS = {
    "loading": "Loading…",
    "joining": "Connecting…",
    "live": "Live",
    "ended": "Ended",
    "forbidden": "Not available",
}
"""Each status as the room shows it."""

ROOM_SECTIONS = ("call", "conversation", "events", "controls")
"""The parts of the room a small screen shows one at a time."""

MAX_RAW_MESSAGE_CHARS = 8000
"""The most the advanced composer holds (a message must fit 4 KB as JSON anyway)."""

__all__ = ["FeedState", "PresenceState", "RoomState", "SpeakingState", "selected_size"]


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
    """One conversation's room: status, call URL, controls.

    `self.conversation_id` is Reflex's route variable of `/room/[conversation_id]`.
    """

    status: str = "loading"
    end_reason: str = ""
    join_url: str = ""
    conversation_url: str = ""
    name: str = ""
    section: str = "conversation"
    message: str = ""
    raw_message: str = ""
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
    def live(self) -> bool:
        """Whether controls can be used."""
        return self.status == "live"

    @rx.var
    def status_text(self) -> str:
        """The conversation's status in words."""
        return STATUS_WORDS.get(self.status, self.status)

    @rx.var
    def can_send_message(self) -> bool:
        """Whether Respond and Echo can be used: live, and something is written."""
        return self.status == "live" and bool(self.message.strip())

    # ---- who may -----------------------------------------------------------------------

    async def _who(self) -> tuple[str, str]:
        """The conversation this event names and this tab's owner (call under the lock)."""
        app = await self.get_state(AppState)
        return self.conversation_id, app.ensure_owner()

    async def _refuse(self, exc: BaseException) -> None:
        """Show why the room cannot be shown, and drop whatever it showed (under the lock)."""
        self._stream_id += 1  # a stream still running stops at its next update
        self.status, self.error = "forbidden", describe_error(exc)
        self.end_reason = self.join_url = self.notice = self.conversation_url = self.name = ""
        self.tool_calls = []
        (await self.get_state(FeedState)).clear()
        (await self.get_state(PresenceState)).clear()
        speaking = await self.get_state(SpeakingState)
        speaking.replica = speaking.user = False
        speaking.caption = ""

    # ---- loading and streaming ------------------------------------------------------

    @rx.event(background=True)
    async def load(self):
        """Check this browser may see the conversation, show its status, start the stream."""
        async with self:
            cid, owner = await self._who()
        manager = get_manager()
        try:
            await manager.check_owner(cid, owner=owner)
            stored = await _stored(cid)
            session = manager.live_session(cid)
            status, reason = stored.status, stored.reason
            if session is not None:
                status, reason = session.status, session.end_reason or ""
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
            self.conversation_url, self.name = stored.conversation_url, stored.name
            self.status, self.end_reason = status, end_reason_sentence(reason)
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
        feed = RoomFeed()
        try:
            async with self:
                if self._stream_id != stream_id:
                    return None
                await self._show(feed, restored.updates, reset=True)
            if session is None:
                return None
            async for batch in restored.subscription.batches():
                fresh = [update for update in batch if restored.is_new(update)]
                async with self:
                    if self._stream_id != stream_id:
                        return None
                    await self._show(feed, fresh, reset=False)
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

    async def _show(self, feed: RoomFeed, updates: list[LiveUpdate], *, reset: bool) -> None:
        """Show what a batch of updates changes (under the lock); each state only on change."""
        changes: RoomChanges = feed.fold(updates)
        if changes.status is not None:
            self.status = changes.status.status
            self.end_reason = end_reason_sentence(changes.status.reason)
        for notice in changes.notices:
            self._show_notice(notice)
        speaking = await self.get_state(SpeakingState)
        now = (speaking.replica, speaking.user, speaking.caption)
        if changes.speaking is not None:
            now = (changes.speaking.replica, changes.speaking.user, now[2])
        if changes.caption is not None:
            now = (now[0], now[1], changes.caption)
        if self.status == "ended":
            now = (False, False, "")
            self.notice, self._notice_topic = "", ""
        if (speaking.replica, speaking.user, speaking.caption) != now:
            speaking.replica, speaking.user, speaking.caption = now
        if changes.presence is not None:
            presence = await self.get_state(PresenceState)
            presence.show(changes.presence)
        if changes.tools_changed or reset:
            tool_rows = feed.tool_rows()
            if tool_rows != self.tool_calls:  # every assignment is a delta
                self.tool_calls = tool_rows
        feeds = await self.get_state(FeedState)
        feeds.show(changes.lines, changes.rows, reset=reset)

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
        self.event_filter = value[:100]

    @rx.event
    def show_section(self, section: str) -> None:
        """On a small screen, show one part of the room (call, conversation, events, controls)."""
        if section in ROOM_SECTIONS:
            self.section = section

    @rx.event
    def set_raw_message(self, value: str) -> None:
        """Keep the advanced composer's JSON."""
        self.raw_message = value[:MAX_RAW_MESSAGE_CHARS]

    @rx.event
    def use_template(self, event_type: str) -> None:
        """Fill the advanced composer with an example of one documented interaction."""
        template = interaction_template(event_type, self.conversation_id)
        if template:
            self.raw_message = template

    @rx.event(background=True)
    async def send_raw(self):
        """Send the advanced composer's JSON, once the protocol's models accept it."""
        return await self._control(
            "raw",
            _live(_send_raw),
            take=lambda state: state.raw_message,
            ok="The interaction was sent.",
        )

    async def _control(
        self,
        name: str,
        send: Send,
        *,
        take: Callable[[RoomState], Any] = lambda state: None,
        done: Callable[[RoomState, Any], None] = lambda state, taken: None,
        busy: str | None = None,
        ok: str | None = None,
    ):
        """Run one control outside the state lock, at most one of each kind at a time.

        `take` reads what the control sends from the state (under the lock); `send(cid, owner,
        taken)` is awaited without the lock and checks this tab's owner before it acts; `done`
        updates the state after a successful send, and `ok` is then shown as a toast. Every
        refusal reaches the person as a toast (`busy` as well, when the control is still being
        sent).
        """
        async with self:
            if name in self.pending:  # a double click: the first one is being sent
                return rx.toast.error(busy) if busy else None
            cid, owner = await self._who()
            taken = take(self)
            self.pending = [*self.pending, name]
        sent = False
        try:
            await send(cid, owner, taken)
            sent = True
        except Exception as exc:
            logger.info("room %s: %s refused: %s", cid, name, exc)
            return rx.toast.error(describe_error(exc))
        finally:
            async with self:
                self.pending = [p for p in self.pending if p != name]
                if sent:
                    done(self, taken)
        return rx.toast.success(ok) if ok else None

    @rx.event(background=True)
    async def respond(self, _form: dict[str, Any] | None = None):
        """Send the message as the user's turn (a button, or Enter in the message box)."""
        return await self._control(
            "respond", _live(ConversationSession.respond), take=_message, done=_clear_message
        )

    @rx.event(background=True)
    async def echo(self):
        """Make the replica say the message verbatim."""
        return await self._control(
            "echo", _live(ConversationSession.echo), take=_message, done=_clear_message
        )

    @rx.event(background=True)
    async def interrupt(self):
        """Make the replica stop talking."""
        return await self._control("interrupt", _live(lambda session, _: session.interrupt()))

    @rx.event(background=True)
    async def overwrite_context(self):
        """Replace the replica's context with the context box."""
        return await self._control(
            "overwrite_context",
            _live(ConversationSession.overwrite_context),
            take=_context,
            ok="The replica's context was replaced.",
        )

    @rx.event(background=True)
    async def append_context(self):
        """Add the context box to the replica's context."""
        return await self._control(
            "append_context",
            _live(ConversationSession.append_context),
            take=_context,
            ok="The context was added to the replica's context.",
        )

    @rx.event(background=True)
    async def set_pause_sensitivity(self, value: str):
        """Change how long a pause ends the user's turn."""
        return await self._set_sensitivity("pause", value)

    @rx.event(background=True)
    async def set_interrupt_sensitivity(self, value: str):
        """Change how easily the user interrupts the replica."""
        return await self._set_sensitivity("interrupt", value)

    async def _set_sensitivity(self, kind: Literal["pause", "interrupt"], value: str):
        def send(session: ConversationSession, _: Any) -> Awaitable[None]:
            return session.set_sensitivity(**{kind: value})  # type: ignore[arg-type]

        return await self._control(
            f"{kind}_sensitivity",
            _live(send),
            done=lambda state, taken: setattr(state, f"{kind}_sensitivity", value),
            ok=f"{kind.title()} sensitivity is now {value}.",
        )

    @rx.event(background=True)
    async def upload_echo_audio(self, chunks: rx.UploadChunkIterator, declared_size: int = 0):
        """Echo an uploaded WAV file (converted to 16-bit mono PCM).

        Nothing is read before the owner and the size the browser declared are checked; the
        upload is then read up to the size limit, and decoded in a worker thread.
        """

        async def echo_upload(session: ConversationSession, _: Any) -> None:
            if not isinstance(declared_size, int) or declared_size > MAX_WAV_BYTES:
                raise AudioError(too_large_message())
            data = await read_capped(chunks, limit=MAX_WAV_BYTES)
            if not data:
                raise AudioError("Choose a WAV file first.")
            pcm, rate = await asyncio.to_thread(wav_to_pcm16_mono, data)
            await session.echo_audio(pcm, sample_rate=rate)

        return await self._control(
            "audio",
            _live(echo_upload),
            busy="An audio echo is already being sent.",
            ok="The audio echo was sent.",
        )

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
            _live(lambda session, _: session.send_tool_result(str(tool_call_id), answer)),
            done=lambda state, taken: setattr(state, "tool_answer", ""),
            ok="The tool's result was sent.",
        )

    @rx.event(background=True)
    async def end(self):
        """End the conversation for everyone."""
        return await self._control("end", _end)


Send = Callable[[str, str, Any], Awaitable[None]]
"""A control's send: given the conversation, this tab's owner and what it took from the state."""


def _live(send: Callable[[ConversationSession, Any], Awaitable[None]]) -> Send:
    """A control sent on the conversation's live session, once the owner is checked."""

    async def on_session(cid: str, owner: str, taken: Any) -> None:
        await send(get_manager().session_for(cid, owner=owner), taken)

    return on_session


async def _end(cid: str, owner: str, _: Any) -> None:
    await get_manager().end_conversation(cid, owner=owner)


async def _send_raw(session: ConversationSession, raw: str) -> None:
    if not raw.strip():
        raise SessionError("Write the interaction's JSON first, or pick a template.")
    await session.send(validate_interaction(raw))


def _message(state: RoomState) -> str:
    return state.message


def _context(state: RoomState) -> str:
    return state.context


def _clear_message(state: RoomState, sent: str) -> None:
    if state.message == sent:  # not what the person has typed since
        state.message = ""


@dataclass(frozen=True)
class _Stored:
    status: str = "ended"
    reason: str = ""
    conversation_url: str = ""
    name: str = ""


async def _stored(conversation_id: str) -> _Stored:
    """What the store holds about a conversation (its status matters when not live here)."""
    row = await run_in_transaction(
        get_engine(), lambda s: get_conversation(s, conversation_id=conversation_id)
    )
    if row is None:
        return _Stored()
    return _Stored(
        status=row.status,
        reason=row.shutdown_reason or "",
        conversation_url=row.conversation_url or "",
        name=row.name or "",
    )
