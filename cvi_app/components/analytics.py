"""A conversation's figures and timeline chart (Reflex's recharts), and the insights' charts."""

from __future__ import annotations

import reflex as rx

from cvi_app.components.layout import scroll_region

__all__ = ["bar_chart_of", "facts_list", "simple_table", "timeline_chart"]

REPLICA_COLOUR = rx.color("indigo", 9)
USER_COLOUR = rx.color("amber", 9)


def facts_list(facts, *, name: str) -> rx.Component:
    """Labelled figures (a list of {label, value})."""
    return rx.data_list.root(
        rx.foreach(
            facts,
            lambda fact: rx.data_list.item(
                rx.data_list.label(fact["label"]), rx.data_list.value(fact["value"])
            ),
        ),
        orientation=rx.breakpoints(initial="vertical", sm="horizontal"),
        aria_label=name,
    )


def timeline_chart(data, marks, *, summary: str) -> rx.Component:
    """Who spoke when (replica and user as step areas), with tool calls and interruptions.

    The chart is a picture for sighted readers; `summary` says what it shows, and the turns and
    tool calls tables beside it hold the same facts as text.
    """
    chart = rx.recharts.area_chart(
        *(
            rx.recharts.area(
                data_key=key,
                name=name,
                type_="step",
                stroke=colour,
                fill=colour,
                fill_opacity=0.35,
                is_animation_active=False,
            )
            for key, name, colour in (
                ("replica", "Replica", REPLICA_COLOUR),
                ("user", "User", USER_COLOUR),
            )
        ),
        rx.recharts.x_axis(data_key="t", type_="number", unit=" s", domain=["dataMin", "dataMax"]),
        rx.recharts.y_axis(hide=True, domain=[0, 1]),
        rx.recharts.legend(),
        rx.foreach(
            marks,
            lambda mark: rx.recharts.reference_line(
                x=mark["at"],
                stroke=rx.cond(mark["kind"] == "tool", rx.color("green", 10), rx.color("red", 10)),
                stroke_dasharray="4 2",
            ),
        ),
        data=data,
        height=220,
        width="100%",
    )
    return rx.box(chart, role="img", aria_label=summary, width="100%", id="timeline-chart")


def bar_chart_of(data, *, x: str, bars: list[tuple[str, str]], summary: str, chart_id: str):
    """A bar chart of `data` by `x`, one bar per (data key, name), with a text summary."""
    colours = [rx.color("indigo", 9), rx.color("amber", 9), rx.color("green", 9)]
    chart = rx.recharts.bar_chart(
        *(
            rx.recharts.bar(
                data_key=key, name=name, fill=colours[i % len(colours)], is_animation_active=False
            )
            for i, (key, name) in enumerate(bars)
        ),
        rx.recharts.x_axis(data_key=x),
        rx.recharts.y_axis(),
        rx.recharts.legend(),
        rx.recharts.graphing_tooltip(),
        data=data,
        height=240,
        width="100%",
    )
    return rx.box(chart, role="img", aria_label=summary, width="100%", id=chart_id)


def simple_table(name: str, rows, columns: list[tuple[str, str]], *, min_width="30rem"):
    """A named table of `rows` (dicts), one column per (key, heading)."""
    table = rx.table.root(
        rx.table.header(rx.table.row(*(rx.table.column_header_cell(h) for _k, h in columns))),
        rx.table.body(
            rx.foreach(
                rows, lambda row: rx.table.row(*(rx.table.cell(row[k]) for k, _h in columns))
            )
        ),
        width="100%",
    )
    return scroll_region(name, table, min_width=min_width)
