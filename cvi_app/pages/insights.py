"""Insights across conversations: per day, latency, duration, end reasons, tools; CSV."""

import reflex as rx

from cvi_app.analytics.routes import INSIGHTS_CSV_PATH
from cvi_app.components.analytics import bar_chart_of, facts_list, simple_table
from cvi_app.components.layout import page_layout
from cvi_app.components.native_form import BACKEND_ORIGIN
from cvi_app.state.insights_state import InsightsState


def _filters() -> rx.Component:
    def day(label: str, value, on_change, ident: str) -> rx.Component:
        return rx.vstack(
            rx.el.label(label, html_for=ident),
            rx.input(type="date", id=ident, value=value, on_change=on_change),
            spacing="1",
        )

    return rx.form(
        rx.hstack(
            day("First day", InsightsState.start, InsightsState.set_start, "insights-from"),
            day("Last day", InsightsState.end, InsightsState.set_end, "insights-to"),
            rx.vstack(
                rx.text("Persona", as_="label", size="2"),
                rx.select.root(
                    rx.select.trigger(aria_label="Persona"),
                    rx.select.content(
                        rx.foreach(
                            InsightsState.personas,
                            lambda p: rx.select.item(p["name"], value=p["id"]),
                        )
                    ),
                    value=InsightsState.persona,
                    on_change=InsightsState.set_persona,
                ),
                spacing="1",
            ),
            rx.button("Show", type="submit", loading=InsightsState.loading),
            align="end",
            wrap="wrap",
            spacing="3",
        ),
        on_submit=lambda _form: InsightsState.load,
        aria_label="Filters",
    )


_CHARTS = [
    # id, heading, per day (else per end reason), bars, what the chart shows
    (
        "chart-per-day",
        "Conversations per day",
        True,
        [("conversations", "Conversations")],
        "Conversations per day",
    ),
    (
        "chart-latency",
        "Response latency per day (seconds)",
        True,
        [("median", "Median"), ("p90", "p90")],
        "Median and p90 response latency per day, in seconds",
    ),
    (
        "chart-duration",
        "Average duration per day (seconds)",
        True,
        [("duration", "Average duration")],
        "Average conversation duration per day, in seconds",
    ),
    (
        "chart-reasons",
        "Why conversations ended",
        False,
        [("count", "Conversations")],
        "How many conversations ended for each reason",
    ),
]


def _charts() -> list[rx.Component]:
    parts: list[rx.Component] = []
    for chart_id, heading, per_day, bars, shows in _CHARTS:
        parts += [
            rx.heading(heading, size="3", as_="h2"),
            bar_chart_of(
                InsightsState.days if per_day else InsightsState.reasons,
                x="day" if per_day else "reason",
                bars=bars,
                summary=f"{shows}, as a bar chart.",
                chart_id=chart_id,
            ),
        ]
    return parts


@page_layout
def insights() -> rx.Component:
    """The insights of the chosen days and persona."""
    s = InsightsState
    return rx.vstack(
        rx.heading("Insights", size="8", as_="h1"),
        rx.text("Figures across the conversations started in the chosen days (UTC)."),
        _filters(),
        rx.cond(s.problem != "", rx.callout(s.problem, color_scheme="red", role="alert")),
        rx.cond(s.note != "", rx.text(s.note, size="2")),
        facts_list(s.facts, name="Insights"),
        rx.link(
            "Download the figures of each conversation (CSV)",
            href=BACKEND_ORIGIN + INSIGHTS_CSV_PATH + "?" + s.csv_query,
            reload_document=True,
            download="",
        ),
        rx.link("Scenario runs", href="/scenarios"),
        *_charts(),
        rx.el.ul(
            rx.foreach(s.reasons, lambda r: rx.el.li(r["reason"], ": ", r["count"])),
            aria_label="End reasons",
        ),
        rx.cond(
            s.pages.length() > 0,
            rx.vstack(
                rx.heading("Public pages", size="3", as_="h2"),
                simple_table(
                    "Public pages",
                    s.pages,
                    [
                        ("page", "Page"),
                        ("conversations", "Conversations"),
                        ("rating", "Visitors' rating"),
                    ],
                ),
                width="100%",
            ),
        ),
        spacing="4",
        width="100%",
    )
