"""Insights across conversations: per day, latency, duration, end reasons, tools; CSV."""

import reflex as rx

from cvi_app.analytics.routes import INSIGHTS_CSV_PATH
from cvi_app.components.analytics import bar_chart_of, facts_list
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
        rx.heading("Conversations per day", size="3", as_="h2"),
        bar_chart_of(
            s.days,
            x="day",
            bars=[("conversations", "Conversations")],
            summary="Conversations per day, as a bar chart.",
            chart_id="chart-per-day",
        ),
        rx.heading("Response latency per day (seconds)", size="3", as_="h2"),
        bar_chart_of(
            s.days,
            x="day",
            bars=[("median", "Median"), ("p90", "p90")],
            summary="Median and p90 response latency per day, in seconds, as a bar chart.",
            chart_id="chart-latency",
        ),
        rx.heading("Average duration per day (seconds)", size="3", as_="h2"),
        bar_chart_of(
            s.days,
            x="day",
            bars=[("duration", "Average duration")],
            summary="Average conversation duration per day, in seconds, as a bar chart.",
            chart_id="chart-duration",
        ),
        rx.heading("Why conversations ended", size="3", as_="h2"),
        bar_chart_of(
            s.reasons,
            x="reason",
            bars=[("count", "Conversations")],
            summary="How many conversations ended for each reason, as a bar chart.",
            chart_id="chart-reasons",
        ),
        rx.el.ul(
            rx.foreach(s.reasons, lambda r: rx.el.li(r["reason"], ": ", r["count"])),
            aria_label="End reasons",
        ),
        spacing="4",
        width="100%",
    )
