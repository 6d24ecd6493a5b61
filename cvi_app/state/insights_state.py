"""The insights page: figures across the conversations of a date range and a persona."""

from __future__ import annotations

import logging
from urllib.parse import urlencode

import reflex as rx
from sqlmodel import Session

from cvi_app.accounts.sessions import owner_for
from cvi_app.analytics.figures import ConversationFigures
from cvi_app.analytics.insights import Insights, insights
from cvi_app.analytics.ranges import RangeError, parse_query
from cvi_app.analytics.reading import MAX_INSIGHT_CONVERSATIONS, insights_figures
from cvi_app.deployments.queries import deployment_names
from cvi_app.presentation.analytics import seconds
from cvi_app.presentation.text import end_reason_sentence
from cvi_app.state.app_state import AppState
from cvi_app.state.catalog import cached_catalog
from cvi_app.store.db import get_engine, run_in_transaction
from cvi_app.store.types import utc_now

__all__ = ["InsightsState"]

logger = logging.getLogger(__name__)

ALL = "all"


def _percent(value: float | None) -> str:
    return "not measured" if value is None else f"{value:.0%}"


def _facts(found: Insights) -> list[dict[str, str]]:
    return [
        {"label": "Conversations", "value": str(found.conversations)},
        {"label": "Answered turns", "value": str(found.turns)},
        {"label": "Response latency, median", "value": seconds(found.median_latency_s)},
        {"label": "Response latency, p90", "value": seconds(found.p90_latency_s)},
        {"label": "Average duration", "value": seconds(found.average_duration_s)},
        {"label": "Tool calls", "value": str(found.tool_calls)},
        {"label": "Tool success rate", "value": _percent(found.tool_success_rate)},
        {"label": "Visitors' rating", "value": _stars(found.average_rating, found.rated)},
    ]


def _stars(average: float | None, rated: int) -> str:
    if average is None:
        return "no ratings yet"
    return f"{average:.1f} of 5 ({rated} rated)"


class InsightsState(rx.State):
    """The filters, and what they show (bounded: a day per point, at most a year)."""

    start: str = ""
    end: str = ""
    persona: str = ALL
    personas: list[dict[str, str]] = []
    facts: list[dict[str, str]] = []
    days: list[dict[str, str | int | float]] = []
    reasons: list[dict[str, str | int]] = []
    pages: list[dict[str, str]] = []
    """Per public page: its title, conversations and visitors' rating."""
    problem: str = ""
    note: str = ""
    loading: bool = False
    csv_query: str = ""

    @rx.event
    def set_start(self, value: str) -> None:
        """Choose the first day."""
        self.start = value[:20]

    @rx.event
    def set_end(self, value: str) -> None:
        """Choose the last day."""
        self.end = value[:20]

    @rx.event
    def set_persona(self, value: str):
        """Choose the persona (or all), and show its figures."""
        self.persona = value[:128]
        return InsightsState.load

    @rx.event(background=True)
    async def load(self):
        """Check the filters, then compute the figures (off the event loop)."""
        async with self:
            start, end, persona = self.start, self.end, self.persona
            credentials = (await self.get_state(AppState)).credentials()
            self.loading = True
        try:
            query = parse_query(start, end, persona, today=utc_now().date())
        except RangeError as exc:
            async with self:
                self.problem, self.loading = str(exc), False
            return
        owner = await owner_for(credentials, "read")
        catalog = await cached_catalog()

        def read(session: Session) -> tuple[list[ConversationFigures], int, dict[int, str]]:
            figures, total = insights_figures(session, owner=owner, query=query)
            ids = [f.page_id for f in figures if f.page_id is not None]
            return figures, total, deployment_names(session, ids)

        try:
            figures, total, titles = await run_in_transaction(get_engine(), read)
        except Exception:
            logger.exception("insights failed")
            async with self:
                self.problem, self.loading = "The insights could not be computed. Try again.", False
            return
        found = insights(figures)
        async with self:
            self.start, self.end = query.first_day.isoformat(), query.last_day.isoformat()
            self.personas = [{"id": ALL, "name": "All personas"}] + [
                {"id": pid, "name": name} for pid, name in catalog.personas.items()
            ]
            self.facts = _facts(found)
            self.days = [
                {
                    "day": d.day.isoformat(),
                    "conversations": d.conversations,
                    "median": round(d.median_latency_s or 0.0, 3),
                    "p90": round(d.p90_latency_s or 0.0, 3),
                    "duration": round(d.average_duration_s or 0.0, 1),
                }
                for d in found.days
            ]
            self.reasons = [
                {"reason": end_reason_sentence(r) if r != "still live" else r, "count": n}
                for r, n in list(found.end_reasons.items())[:12]
            ]
            self.pages = [
                {
                    "page": titles.get(p.page_id, "a removed page"),
                    "conversations": str(p.conversations),
                    "rating": _stars(p.average_rating, p.rated),
                }
                for p in found.pages[:50]
            ]
            self.note = (
                f"Only the newest {MAX_INSIGHT_CONVERSATIONS} of the {total} conversations in "
                "this range are counted."
                if total > len(figures)
                else ""
            )
            params = {"from": self.start, "to": self.end, "persona": persona}
            self.csv_query = urlencode(params)
            self.problem, self.loading = "", False
