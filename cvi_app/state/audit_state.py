"""The audit log page (admins only): newest entries first, older ones a page at a time."""

from __future__ import annotations

import reflex as rx

from cvi_app.accounts.queries import list_audit
from cvi_app.presentation.text import clock_time
from cvi_app.state.app_state import AppState
from cvi_app.store.db import get_engine, run_in_transaction

__all__ = ["PAGE_SIZE", "AuditState"]

PAGE_SIZE = 50


class AuditState(rx.State):
    """One page of the audit log (at most `PAGE_SIZE` rows in the browser)."""

    rows: list[dict[str, str]] = []
    allowed: bool = False
    has_older: bool = False
    conversation_id: str = ""
    """Only this conversation's entries, when the page was opened for one (`?conversation=`)."""
    _pages: list[int] = []
    """The id each earlier page started below (for "Newer")."""

    async def _read(self, before_id: int | None) -> None:
        caller = await (await self.get_state(AppState)).caller()
        self.allowed = caller.may("admin")
        if not self.allowed:
            self.rows, self.has_older = [], False
            return
        only = self.conversation_id or None
        entries = await run_in_transaction(
            get_engine(),
            lambda s: list_audit(s, before_id=before_id, conversation_id=only, limit=PAGE_SIZE + 1),
        )
        self.has_older = len(entries) > PAGE_SIZE
        self.rows = [
            {
                "id": str(e.id),
                "at": clock_time(e.at),
                "actor": e.actor,
                "action": e.action,
                "conversation": e.conversation_id or "",
                "detail": e.detail,
            }
            for e in entries[:PAGE_SIZE]
        ]

    @rx.event
    async def load(self):
        """Show the newest entries (of one conversation, given `?conversation=`)."""
        self.conversation_id = str(self.router.url.query_parameters.get("conversation", ""))[:128]
        self._pages = []
        await self._read(None)

    @rx.event
    async def older(self):
        """Show the page before this one."""
        if not self.has_older or not self.rows:
            return
        self._pages = [*self._pages, int(self.rows[0]["id"]) + 1]
        await self._read(int(self.rows[-1]["id"]))

    @rx.event
    async def newer(self):
        """Show the page after this one."""
        if not self._pages:
            return
        start = self._pages[-1]
        self._pages = self._pages[:-1]
        await self._read(start if self._pages else None)
