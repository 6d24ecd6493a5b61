"""Insights requests are checked in plain words; the CSV is one row per conversation."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import pytest

from cvi_app.analytics.figures import Moment, conversation_figures
from cvi_app.analytics.insights import CSV_COLUMNS, figures_csv
from cvi_app.analytics.ranges import MAX_DAYS, RangeError, parse_query

TODAY = date(2026, 12, 3)


def test_blank_days_mean_the_last_thirty_and_all_personas() -> None:
    query = parse_query("", None, "all", today=TODAY)
    assert (query.first_day, query.last_day, query.persona_id) == (
        date(2026, 11, 4),
        TODAY,
        None,
    )
    assert query.since == datetime(2026, 11, 4, tzinfo=UTC)
    assert query.until == datetime(2026, 12, 4, tzinfo=UTC)


@pytest.mark.parametrize(
    ("start", "end", "problem"),
    [
        ("yesterday", "", "Choose the days as dates, like 2026-12-01."),
        ("2026-12-02", "2026-12-01", "The first day must be on or before the last day."),
        ("2024-01-01", "2026-12-01", f"Choose at most {MAX_DAYS} days at a time."),
    ],
)
def test_a_bad_range_is_refused_with_a_reason(start: str, end: str, problem: str) -> None:
    with pytest.raises(RangeError) as refused:
        parse_query(start, end, None, today=TODAY)
    assert str(refused.value) == problem


def test_the_csv_has_one_row_per_conversation_and_no_formulas() -> None:
    start = datetime(2026, 12, 1, tzinfo=UTC)
    figures = conversation_figures(
        conversation_id="c1",
        started_at=start,
        ended_at=start.replace(minute=1),
        end_reason="=HYPERLINK(1)",
        moments=[Moment(event_type="system.replica_joined", source="webhook", at=start)],
    )
    rows = list(csv.reader(io.StringIO(figures_csv([figures]))))
    assert rows[0] == CSV_COLUMNS
    row = dict(zip(CSV_COLUMNS, rows[1], strict=True))
    assert row["conversation_id"] == "c1" and row["duration_s"] == "60.000"
    assert row["median_latency_s"] == "" and row["end_reason"] == "'=HYPERLINK(1)"
