"""The analytics section of a conversation's history page, computed from its stored events."""

from __future__ import annotations

import logging

import reflex as rx

from cvi_app.accounts.sessions import owner_for
from cvi_app.analytics.figures import ConversationFigures
from cvi_app.analytics.reading import figures_of
from cvi_app.presentation.analytics import (
    figure_facts,
    seconds,
    timeline_data,
    tool_rows,
    turn_rows,
)
from cvi_app.state.app_state import AppState
from cvi_app.store.conversations import get_owned_conversation
from cvi_app.store.db import get_engine, run_in_transaction

__all__ = ["AnalyticsState"]

logger = logging.getLogger(__name__)


class AnalyticsState(rx.State):
    """One conversation's figures, turns, tool calls and timeline (all bounded).

    `self.conversation_id` is Reflex's route variable of `/history/[conversation_id]`.
    """

    ready: bool = False
    error: str = ""
    facts: list[dict[str, str]] = []
    turns: list[dict[str, str]] = []
    tools: list[dict[str, str]] = []
    timeline: list[dict[str, float]] = []
    marks: list[dict[str, str]] = []
    note: str = ""

    @rx.event(background=True)
    async def load(self):
        """Compute the figures (off the event loop), if this browser may read the conversation."""
        async with self:
            cid = str(self.conversation_id)
            credentials = (await self.get_state(AppState)).credentials()
            self.ready, self.error = False, ""
        owner = await owner_for(credentials, "read")

        def read(session) -> ConversationFigures | None:
            row = get_owned_conversation(session, conversation_id=cid, owner=owner)
            return None if row is None else figures_of(session, row)

        try:
            figures = await run_in_transaction(get_engine(), read)
        except Exception:
            logger.exception("analytics of %s failed", cid)
            async with self:
                self.error = "The figures could not be computed. Reload the page to try again."
            return
        async with self:
            if figures is None:  # the page itself says the conversation is not this browser's
                self.facts, self.turns, self.tools, self.timeline, self.marks = [], [], [], [], []
                return
            self.facts = figure_facts(figures)
            self.turns = turn_rows(figures)
            self.tools = tool_rows(figures)
            self.timeline = timeline_data(figures)
            self.marks = [
                {
                    "kind": m.kind,
                    "at": str(round(m.at_s, 2)),
                    "label": m.label,
                    "when": seconds(m.at_s),
                }
                for m in figures.marks
            ]
            self.note = (
                "The timeline shows the first part of this long conversation."
                if figures.timeline_cut
                else ""
            )
            self.ready = True
