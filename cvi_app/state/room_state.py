"""The room page: one live conversation, its status and its live feeds.

The stream is a background task per tab that restores the conversation gap-free
(`cvi_app.live.history.restore`), then drains its bus subscription in batches; `RoomFeed`
(room_feed.py) folds each batch into what changed, and fast-changing values live in small
states of their own (`SpeakingState`, `FeedState`) so each event sends only that. The controls
(message, context, sensitivities, audio echo, tool answers, raw interactions, ending the call)
are `RoomControlsState`, a substate of this one (room_controls.py).

Every handler that reads or drives the conversation checks, itself, that this tab's owner may
use the conversation named in the event's URL (the client sends that with every event, so a
check when the page loaded proves nothing), and sends nothing about it otherwise. Handlers that
wait on the network or the database are background events: the state lock is held only for
short reads and writes of the state.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import reflex as rx

from cvi_app.access.caller import Credentials
from cvi_app.accounts.sessions import owner_for
from cvi_app.live.cluster.remote import RemoteSession
from cvi_app.live.history import restore
from cvi_app.live.manager import get_manager
from cvi_app.live.updates import LiveUpdate, Notice
from cvi_app.presentation.errors import describe_error
from cvi_app.presentation.text import end_reason_sentence
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

__all__ = ["FeedState", "PresenceState", "RoomState", "SpeakingState"]


class RoomState(rx.State):
    """One conversation's room: its status, call URL, tool calls, notices and their stream.

    Only this tab's owner is shown any of it; the stream keeps it (and the feeds' states) up
    to date.

    `self.conversation_id` is Reflex's route variable of `/room/[conversation_id]`.
    """

    status: str = "loading"
    end_reason: str = ""
    join_url: str = ""
    conversation_url: str = ""
    name: str = ""
    section: str = "conversation"
    event_filter: str = ""
    tool_calls: list[dict[str, str]] = []
    error: str = ""
    notice: str = ""
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

    # ---- who may -----------------------------------------------------------------------

    async def _who(self) -> tuple[str, Credentials]:
        """The conversation this event names and what this tab proved (call under the lock).

        `owner_for(credentials, "drive")` then finds its owner, outside the lock.
        """
        app = await self.get_state(AppState)
        return self.conversation_id, app.credentials()

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
            cid, credentials = await self._who()
        owner = await owner_for(credentials, "drive")
        manager = get_manager()
        try:
            await manager.check_owner(cid, owner=owner)
            stored = await _stored(cid)
            session = await manager.find_session(cid, owner=owner)
            status, reason = stored.status, stored.reason
            if session is not None:
                status, reason = session.status, session.end_reason or ""
            elif status == "active":  # live, and between processes (cluster) or starting up
                status = "joining"
            join_url = manager.join_url(cid) if session is manager.live_session(cid) else ""
            if isinstance(session, RemoteSession):
                join_url = session.join_url
        except Exception as exc:
            logger.info("room %s: refused: %s", cid, exc)
            async with self:
                await self._refuse(exc)
            return None
        async with self:
            if self.conversation_id != cid:
                return None  # the tab has moved on
            self.error = ""
            self.join_url = join_url
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
            cid, credentials = await self._who()
        owner = await owner_for(credentials, "drive")
        manager = get_manager()
        try:
            await manager.check_owner(cid, owner=owner)
        except Exception as exc:
            async with self:
                await self._refuse(exc)
            return None
        session = await manager.find_session(cid, owner=owner)
        restored = await restore(manager.bus, session, cid)
        # In the cluster a conversation may be between holders (one died, another takes it
        # over): follow it while the store says it is active.
        follow = session is not None or (manager.cluster is not None and await _active(cid))
        feed = RoomFeed()
        try:
            async with self:
                if self._stream_id != stream_id:
                    return None
                await self._show(feed, restored.updates, reset=True)
            if not follow:
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
            cid, credentials = await self._who()
        owner = await owner_for(credentials, "drive")
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

    # ---- what the page shows ----------------------------------------------------------

    @rx.event
    def set_event_filter(self, value: str) -> None:
        """Show only events whose type contains `value`."""
        self.event_filter = value[:100]

    @rx.event
    def show_section(self, section: str) -> None:
        """On a small screen, show one part of the room (call, conversation, events, controls)."""
        if section in ROOM_SECTIONS:
            self.section = section

    @rx.var
    def unanswered_tool_calls(self) -> list[str]:
        """Ids of tool calls no built-in tool handles, waiting for the person's answer."""
        return [row["id"] for row in self.tool_calls if row["status"] == "unhandled"]


@dataclass(frozen=True)
class _Stored:
    status: str = "ended"
    reason: str = ""
    conversation_url: str = ""
    name: str = ""


async def _active(conversation_id: str) -> bool:
    return (await _stored(conversation_id)).status == "active"


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
