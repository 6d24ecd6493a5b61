"""One stored conversation on the history page: its facts, paged transcript and timeline.

Only the browser that created a conversation sees it: every handler checks the owner token
against the store. Store reads run off the event loop, outside the state lock; each list held
in state is one bounded page.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

import reflex as rx
from sqlmodel import Session

from cvi_app.access.caller import Credentials
from cvi_app.accounts.sessions import owner_for
from cvi_app.deployments.queries import deployment_names
from cvi_app.presentation.history_pages import (
    TranscriptSource,
    Window,
    has_official_transcript,
    timeline_window,
    tool_call_rows,
    transcript_window,
    webhook_rows,
)
from cvi_app.presentation.text import end_reason_sentence, rating_sentence
from cvi_app.state.app_state import AppState
from cvi_app.state.catalog import Catalog, cached_catalog, conversation_title
from cvi_app.state.history_state import when
from cvi_app.store import Conversation, get_engine, run_in_transaction
from cvi_app.store.conversations import get_owned_conversation

logger = logging.getLogger(__name__)

T = TypeVar("T")
PAGE_SIZE = 50
NOT_YOURS = "This conversation is not yours: only the browser that started it can see its history."


async def _read_owned(cid: str, owner: str, read: Callable[[Session], T]) -> T | None:
    """`read(session)` when `owner` created the conversation, else None (one transaction)."""

    def work(session: Session) -> T | None:
        if get_owned_conversation(session, conversation_id=cid, owner=owner) is None:
            return None
        return read(session)

    return await run_in_transaction(get_engine(), work)


def _named(name: str, ident: str | None) -> str:
    """A name with its id ("Anna (r1234)"), or just the id when the API has no name for it."""
    if not ident:
        return ""
    return ident if name == ident else f"{name} ({ident})"


def _info(row: Conversation, catalog: Catalog, page: str = "") -> dict[str, str]:
    """The conversation's facts as the page shows them, with persona and replica names."""
    replica = catalog.replica(row.replica_id)
    return {
        "name": conversation_title(row.name, replica=replica, created=row.created_at),
        "status": row.status,
        "mode": row.mode,
        "created": when(row.created_at),
        "ended": when(row.ended_at),
        "reason": end_reason_sentence(row.shutdown_reason),
        "persona": _named(catalog.persona(row.persona_id), row.persona_id),
        "replica": _named(replica, row.replica_id),
        "page": page,
        "rating": rating_sentence(row.rating, row.rating_comment),
        "recording": row.recording_location or "",
        # Only a web address becomes a link; s3:// and the like are shown as text to copy.
        "recording_link": _web_address(row.recording_location),
    }


def _web_address(location: str | None) -> str:
    if location and urlsplit(location).scheme == "https" and urlsplit(location).netloc:
        return location
    return ""


class _ConversationPart(rx.State, mixin=True):
    """Shared by the page's parts: the conversation in the URL and the browser's owner token.

    `self.conversation_id` is Reflex's route variable of `/history/[conversation_id]`.
    """

    async def _who(self) -> tuple[str, Credentials]:
        """The conversation in the URL and what this tab proved (under the lock).

        The owner who may read it is then `owner_for(credentials, "read")`, outside the lock.
        """
        app = await self.get_state(AppState)
        return self.conversation_id, app.credentials()


class ConversationState(_ConversationPart, rx.State):
    """The conversation's facts, tool calls and webhooks; `access` says what the page shows."""

    access: str = "loading"
    info: dict[str, str] = {}
    tool_calls: list[dict[str, str]] = []
    webhooks: list[dict[str, str]] = []
    has_official: bool = False

    @rx.event(background=True)
    async def load(self):
        """Check the owner and read the conversation."""
        async with self:
            cid, credentials = await self._who()
            self.access = "loading"
        owner = await owner_for(credentials, "read")

        def read(session: Session) -> dict[str, Any]:
            row = get_owned_conversation(session, conversation_id=cid, owner=owner)
            assert row is not None
            pages = deployment_names(session, [row.deployment_id] if row.deployment_id else [])
            return {
                "row": row,
                "page": pages.get(row.deployment_id or 0, ""),
                "tools": tool_call_rows(session, conversation_id=cid),
                "webhooks": webhook_rows(session, conversation_id=cid),
                "official": has_official_transcript(session, conversation_id=cid),
            }

        try:
            found = await _read_owned(cid, owner, read)
        except Exception:
            logger.exception("history: reading conversation %s failed", cid)
            found, failed = None, True
        else:
            failed = False
        info = (
            _info(found["row"], await cached_catalog(), found["page"]) if found is not None else {}
        )
        async with self:
            if found is None:
                self.access = "error" if failed else "denied"
                self.info, self.tool_calls, self.webhooks = {}, [], []
                return
            self.info, self.tool_calls = info, found["tools"]
            self.webhooks, self.has_official = found["webhooks"], found["official"]
            self.access = "ok"


Reader = Callable[[Session, str, int | None, int | None], Window]


class _Pager(_ConversationPart, mixin=True):
    """A paged list: one window of rows with cursors to the older and newer pages."""

    rows: list[dict[str, str]] = []
    has_older: bool = False
    has_newer: bool = False
    _first: int | None = None
    _last: int | None = None

    def _reader(self) -> Reader:
        """How to read a window (called under the state lock; must capture what it needs)."""
        raise NotImplementedError

    async def _show(self, direction: str) -> None:
        async with self:
            cid, credentials = await self._who()
            after = self._last if direction == "newer" else None
            before = self._first if direction == "older" else None
            reader = self._reader()
        owner = await owner_for(credentials, "read")
        try:
            window = await _read_owned(cid, owner, lambda s: reader(s, cid, after, before))
        except Exception:
            logger.exception("history: paging conversation %s failed", cid)
            window = None
        async with self:
            window = window or Window()
            self.rows, self.has_older, self.has_newer = (
                window.rows,
                window.has_older,
                window.has_newer,
            )
            self._first, self._last = window.first, window.last

    @rx.event(background=True)
    async def load(self):
        """Show the first page."""
        await self._show("first")

    @rx.event(background=True)
    async def older(self):
        """Show the page before this one."""
        await self._show("older")

    @rx.event(background=True)
    async def newer(self):
        """Show the page after this one."""
        await self._show("newer")


class TranscriptPager(_Pager, rx.State):
    """The transcript, a page at a time: live utterances or Tavus's official transcript."""

    source: str = "live"

    def _reader(self) -> Reader:
        source: TranscriptSource = "official" if self.source == "official" else "live"

        def read(session: Session, cid: str, after: int | None, before: int | None) -> Window:
            return transcript_window(
                session,
                conversation_id=cid,
                source=source,
                after=after,
                before=before,
                limit=PAGE_SIZE,
            )

        return read

    @rx.event
    def set_source(self, value: str | list[str]):
        """Switch between the live and the official transcript."""
        self.source = "official" if value == "official" else "live"
        return TranscriptPager.load


class TimelinePager(_Pager, rx.State):
    """Every stored event in arrival order, a page at a time."""

    def _reader(self) -> Reader:
        def read(session: Session, cid: str, after: int | None, before: int | None) -> Window:
            return timeline_window(
                session, conversation_id=cid, after=after, before=before, limit=PAGE_SIZE
            )

        return read
