"""Insights across conversations: per day and overall, from each conversation's figures."""

from __future__ import annotations

import csv
import io
import statistics
from collections import Counter
from datetime import date

from pydantic import BaseModel, Field

from cvi_app.analytics.figures import ConversationFigures, percentile

__all__ = ["CSV_COLUMNS", "DayFigures", "Insights", "PageFigures", "figures_csv", "insights"]


class DayFigures(BaseModel):
    """One day's conversations (by the day they started, UTC)."""

    day: date
    conversations: int
    median_latency_s: float | None = None
    p90_latency_s: float | None = None
    average_duration_s: float | None = None


class PageFigures(BaseModel):
    """The conversations visitors started from one public page, and how they rated them."""

    page_id: int
    conversations: int
    rated: int = 0
    average_rating: float | None = None


class Insights(BaseModel):
    """The figures of many conversations together."""

    conversations: int = 0
    turns: int = 0
    median_latency_s: float | None = None
    p90_latency_s: float | None = None
    average_duration_s: float | None = None
    end_reasons: dict[str, int] = Field(default_factory=dict)
    tool_calls: int = 0
    tool_success_rate: float | None = None
    days: list[DayFigures] = Field(default_factory=list)
    rated: int = 0
    """Conversations a visitor rated."""
    average_rating: float | None = None
    pages: list[PageFigures] = Field(default_factory=list)
    """Per public page, the busiest first."""


def _pages(figures: list[ConversationFigures]) -> list[PageFigures]:
    by_page: dict[int, list[ConversationFigures]] = {}
    for f in figures:
        if f.page_id is not None:
            by_page.setdefault(f.page_id, []).append(f)
    pages = []
    for page_id, group in by_page.items():
        ratings = [float(f.rating) for f in group if f.rating is not None]
        pages.append(
            PageFigures(
                page_id=page_id,
                conversations=len(group),
                rated=len(ratings),
                average_rating=_average(ratings),
            )
        )
    return sorted(pages, key=lambda p: (-p.conversations, p.page_id))


def _latencies(figures: list[ConversationFigures]) -> list[float]:
    return [turn.latency_s for f in figures for turn in f.turns]


def _average(values: list[float]) -> float | None:
    return statistics.fmean(values) if values else None


def insights(figures: list[ConversationFigures]) -> Insights:
    """Sum up these conversations: latencies over all their turns, durations of the ended."""
    latencies = _latencies(figures)
    finished = [t for f in figures for t in f.tools if t.status in ("success", "error")]
    by_day: dict[date, list[ConversationFigures]] = {}
    for f in figures:
        by_day.setdefault(f.started_at.date(), []).append(f)
    days = []
    for day in sorted(by_day):
        group = by_day[day]
        day_latencies = _latencies(group)
        days.append(
            DayFigures(
                day=day,
                conversations=len(group),
                median_latency_s=statistics.median(day_latencies) if day_latencies else None,
                p90_latency_s=percentile(day_latencies, 0.9),
                average_duration_s=_average(
                    [f.duration_s for f in group if f.duration_s is not None]
                ),
            )
        )
    reasons = Counter((f.end_reason or "still live") for f in figures)
    ratings = [float(f.rating) for f in figures if f.rating is not None]
    return Insights(
        conversations=len(figures),
        turns=len(latencies),
        median_latency_s=statistics.median(latencies) if latencies else None,
        p90_latency_s=percentile(latencies, 0.9),
        average_duration_s=_average([f.duration_s for f in figures if f.duration_s is not None]),
        end_reasons=dict(reasons.most_common()),
        tool_calls=sum(len(f.tools) for f in figures),
        tool_success_rate=(
            sum(t.status == "success" for t in finished) / len(finished) if finished else None
        ),
        days=days,
        rated=len(ratings),
        average_rating=_average(ratings),
        pages=_pages(figures),
    )


CSV_COLUMNS = [
    "conversation_id",
    "started_at",
    "persona_id",
    "duration_s",
    "to_replica_joined_s",
    "to_first_utterance_s",
    "turns",
    "median_latency_s",
    "p90_latency_s",
    "replica_talk_s",
    "user_talk_s",
    "interruptions",
    "interrupts_sent",
    "tool_calls",
    "tool_success_rate",
    "end_reason",
    "page_id",
    "rating",
]


def figures_csv(figures: list[ConversationFigures]) -> str:
    """The per-conversation figures as CSV (one row each, seconds with 3 decimals)."""

    def num(value: float | None) -> str:
        return "" if value is None else f"{value:.3f}"

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for f in figures:
        writer.writerow(
            [
                f.conversation_id,
                f.started_at.isoformat(),
                f.persona_id or "",
                num(f.duration_s),
                num(f.to_replica_joined_s),
                num(f.to_first_utterance_s),
                len(f.turns),
                num(f.median_latency_s),
                num(f.p90_latency_s),
                num(f.replica_talk_s),
                num(f.user_talk_s),
                f.interruptions,
                f.interrupts_sent,
                len(f.tools),
                num(f.tool_success_rate),
                _safe_cell(f.end_reason or ""),
                "" if f.page_id is None else f.page_id,
                "" if f.rating is None else f.rating,
            ]
        )
    return out.getvalue()


def _safe_cell(text: str) -> str:
    """A cell a spreadsheet will not run as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
