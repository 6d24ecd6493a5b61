"""The history list: this browser's conversations, searched, filtered and paged from the store."""

from __future__ import annotations

import logging
from datetime import datetime

import reflex as rx
from sqlmodel import Session

from cvi_app.accounts.sessions import owner_for
from cvi_app.deployments.queries import deployment_names
from cvi_app.presentation.text import end_reason_sentence, page_note
from cvi_app.state.app_state import AppState
from cvi_app.state.catalog import Catalog, cached_catalog, conversation_title
from cvi_app.store import (
    Conversation,
    ConversationPage,
    get_engine,
    run_in_transaction,
    search_conversations,
)

logger = logging.getLogger(__name__)

PAGE_SIZE = 20
STATUSES = ["all", "active", "ended"]


def when(moment: datetime | None) -> str:
    """A stored time as people read it (UTC)."""
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC") if moment is not None else ""


def _row(row: Conversation, catalog: Catalog, pages: dict[int, str]) -> dict[str, str]:
    replica = catalog.replica(row.replica_id)
    page = pages.get(row.deployment_id, "") if row.deployment_id is not None else ""
    return {
        "id": row.conversation_id,
        "name": conversation_title(row.name, replica=replica, created=row.created_at),
        "persona": catalog.persona(row.persona_id),
        "replica": replica,
        "status": row.status,
        "mode": row.mode,
        "created": when(row.created_at),
        "ended": when(row.ended_at),
        "reason": end_reason_sentence(row.shutdown_reason),
        "page_note": page_note(page, row.rating),
    }


class HistoryState(rx.State):
    """One page of this browser's conversations."""

    query: str = ""
    status: str = "all"
    page: int = 1
    total: int = 0
    rows: list[dict[str, str]] = []
    loading: bool = True
    error: str = ""
    _ticket: int = 0

    @rx.var
    def page_count(self) -> int:
        """How many pages the current search has (at least 1)."""
        return max(1, -(-self.total // PAGE_SIZE))

    @rx.var
    def has_previous(self) -> bool:
        """Whether there is a page before this one."""
        return self.page > 1

    @rx.var
    def has_next(self) -> bool:
        """Whether there is a page after this one."""
        return self.page < self.page_count

    @rx.event(background=True)
    async def load(self):
        """Read the current page from the store (off the event loop, without the state lock)."""
        async with self:
            self._ticket += 1
            ticket = self._ticket
            credentials = (await self.get_state(AppState)).credentials()
            query, page = self.query, self.page
            status = self.status if self.status in ("active", "ended") else None
            self.loading = True
        owner = await owner_for(credentials, "read")

        def read(session: Session) -> tuple[ConversationPage, dict[int, str]]:
            found = search_conversations(
                session, query=query, status=status, owner_session=owner, page=page, limit=PAGE_SIZE
            )
            ids = [r.deployment_id for r in found.items if r.deployment_id is not None]
            return found, deployment_names(session, ids)

        try:
            result, pages = await run_in_transaction(get_engine(), read)
        except Exception:
            logger.exception("history: reading conversations failed")
            async with self:
                self.loading, self.error = False, "The history could not be read. Try again."
            return
        catalog = await cached_catalog()
        async with self:
            if ticket != self._ticket:
                return  # a newer search is under way
            self.rows = [_row(row, catalog, pages) for row in result.items]
            self.total, self.loading, self.error = result.total, False, ""

    @rx.event
    def set_query(self, value: str):
        """Search by name (or id) from the first page."""
        self.query, self.page = value[:200], 1
        return HistoryState.load

    @rx.event
    def set_status(self, value: str):
        """Show all, only active, or only ended conversations."""
        self.status, self.page = (value if value in STATUSES else "all"), 1
        return HistoryState.load

    @rx.event
    def previous_page(self):
        """Go one page back."""
        if self.page > 1:
            self.page -= 1
            return HistoryState.load
        return None

    @rx.event
    def next_page(self):
        """Go one page forward."""
        if self.page < self.page_count:
            self.page += 1
            return HistoryState.load
        return None
