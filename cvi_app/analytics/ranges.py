"""The date range and persona an insights request asks for, checked, in plain words."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

__all__ = ["DEFAULT_DAYS", "MAX_DAYS", "InsightsQuery", "RangeError", "parse_query"]

DEFAULT_DAYS = 30
MAX_DAYS = 366


class RangeError(ValueError):
    """A range the insights cannot show; the message says why."""


@dataclass(frozen=True)
class InsightsQuery:
    """Conversations started from `since` (inclusive) to `until` (exclusive), of one persona."""

    since: datetime
    until: datetime
    persona_id: str | None
    first_day: date
    last_day: date


def parse_query(
    start: str | None, end: str | None, persona: str | None, *, today: date
) -> InsightsQuery:
    """Check an insights request: days as YYYY-MM-DD (UTC), at most `MAX_DAYS` of them.

    Blank days mean the last `DEFAULT_DAYS` days up to today; a blank or "all" persona, all.

    Raises:
        RangeError: A day that is not a date, a start after the end, or a range too long.
    """
    try:
        last = date.fromisoformat(end.strip()) if end and end.strip() else today
        first = (
            date.fromisoformat(start.strip())
            if start and start.strip()
            else last - timedelta(days=DEFAULT_DAYS - 1)
        )
    except ValueError:
        raise RangeError("Choose the days as dates, like 2026-12-01.") from None
    if first > last:
        raise RangeError("The first day must be on or before the last day.")
    if (last - first).days + 1 > MAX_DAYS:
        raise RangeError(f"Choose at most {MAX_DAYS} days at a time.")
    chosen = (persona or "").strip()
    return InsightsQuery(
        since=datetime.combine(first, time.min, tzinfo=UTC),
        until=datetime.combine(last + timedelta(days=1), time.min, tzinfo=UTC),
        persona_id=None if chosen in ("", "all") else chosen[:128],
        first_day=first,
        last_day=last,
    )
