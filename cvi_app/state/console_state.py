"""The operator console: every live conversation of the team, updated about once a second.

While a tab shows `/console`, one background loop per tab reads the live conversations from
the store (newest first, at most `MAX_ROWS`) and their summaries from the processes holding
them, and updates the table when it changed. The loop stops when the tab leaves the page or
closes. Every round checks again that the caller may drive conversations.
"""

from __future__ import annotations

import asyncio
import logging

import reflex as rx
from sqlmodel import Session

from cvi_app.accounts.audit import record_action
from cvi_app.accounts.sessions import resolve_caller
from cvi_app.deployments.queries import deployment_names
from cvi_app.live.manager import get_manager
from cvi_app.presentation.console import console_row
from cvi_app.presentation.errors import refusal_sentence
from cvi_app.presentation.text import STEER_WORDS
from cvi_app.state.app_state import AppState
from cvi_app.state.catalog import cached_catalog, conversation_title
from cvi_app.store.conversations import ConversationPage, search_conversations
from cvi_app.store.db import get_engine, run_in_transaction
from cvi_app.store.types import utc_now

__all__ = ["MAX_ROWS", "REFRESH_S", "ConsoleState"]

logger = logging.getLogger(__name__)

MAX_ROWS = 200
REFRESH_S = 1.0
ROUTE = "/console"


def _tab_open(token: str) -> bool:
    """Whether the tab with this client token is still connected to this process."""
    from reflex.utils.prerequisites import get_app

    namespace = get_app().app.event_namespace
    return namespace is not None and token in namespace.token_to_sid


async def console_rows(owner: str) -> tuple[list[dict[str, str]], int]:
    """The console's rows for the conversations `owner` may drive, and how many are live."""

    def read(session: Session) -> tuple[ConversationPage, dict[int, str]]:
        found = search_conversations(
            session, status="active", owner_session=owner, page=1, limit=MAX_ROWS
        )
        ids = [r.deployment_id for r in found.items if r.deployment_id is not None]
        return found, deployment_names(session, ids)

    page, pages = await run_in_transaction(get_engine(), read)
    summaries = await get_manager().live_summaries([r.conversation_id for r in page.items])
    catalog = await cached_catalog()
    now = utc_now()
    rows = []
    for row in page.items:
        replica = catalog.replica(row.replica_id)
        rows.append(
            console_row(
                row,
                summaries.get(row.conversation_id),
                title=conversation_title(row.name, replica=replica, created=row.created_at),
                persona=catalog.persona(row.persona_id),
                replica=replica,
                page=pages.get(row.deployment_id, "") if row.deployment_id is not None else "",
                now=now,
            )
        )
    rows.sort(key=lambda r: r["alert_count"] == "0")  # alerts first; newest first within
    return rows, page.total


class ConsoleState(rx.State):
    """The console's table (bounded), and whether the caller may see it."""

    rows: list[dict[str, str]] = []
    total: int = 0
    loaded: bool = False
    refusal: str = ""
    _running: bool = False

    @rx.var
    def cut_note(self) -> str:
        """Said when more conversations are live than the table shows."""
        if self.total <= len(self.rows):
            return ""
        return f"Showing the {len(self.rows)} newest of {self.total} live conversations."

    @rx.event(background=True)
    async def watch(self):
        """Keep the table up to date while this tab shows the console."""
        async with self:
            if self._running:
                return
            self._running = True
            token = self.router.session.client_token
            credentials = (await self.get_state(AppState)).credentials()
        try:
            while _tab_open(token):
                caller = await resolve_caller(credentials)
                if not caller.may("drive"):
                    async with self:
                        self.rows, self.total, self.loaded = [], 0, True
                        self.refusal = refusal_sentence(caller, "drive")
                    return
                try:
                    rows, total = await console_rows(caller.owner_for("drive"))
                except Exception:
                    logger.exception("console: reading the live conversations failed")
                    rows, total = None, 0
                async with self:
                    if self.router.route_id != ROUTE:
                        return  # the tab moved to another page
                    if rows is not None and (rows != self.rows or total != self.total):
                        self.rows, self.total = rows, total
                    self.loaded, self.refusal = True, ""
                await asyncio.sleep(REFRESH_S)
        finally:
            async with self:
                self._running = False


class WatchState(rx.State):
    """Tells the conversation's Events panel and the audit log that an operator watches it.

    The watch view itself is the room's, without the call (`pages.room.watch_view`);
    `self.conversation_id` is Reflex's route variable of `/console/[conversation_id]`.
    """

    @rx.event(background=True)
    async def announce(self):
        """Record that this operator opened the watch view."""
        async with self:
            cid = str(self.conversation_id)
            credentials = (await self.get_state(AppState)).credentials()
        caller = await resolve_caller(credentials)
        if not caller.may("drive") or caller.signed_in is None:
            return
        manager = get_manager()
        try:
            await manager.check_owner(cid, owner=caller.owner_for("drive"))
        except Exception:
            return  # the room view says why it cannot be shown
        await record_action(caller, "watched", conversation_id=cid)
        await manager.note_operator(
            cid, owner=caller.owner_for("drive"), actor=caller.actor, action=STEER_WORDS["watch"]
        )
