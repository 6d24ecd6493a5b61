"""Scenario runs: the last results of `python -m cvi_app.scenarios run`, one row per scenario."""

import reflex as rx

from cvi_app.components.layout import page_layout, scroll_region
from cvi_app.state.scenarios_state import RunRow, ScenariosState


def _row(run: rx.Var[RunRow]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.text(run.scenario, weight="medium"),
            rx.text(run.source, " · ", run.mode, size="1", color_scheme="gray", high_contrast=True),
        ),
        rx.table.cell(run.when),
        rx.table.cell(
            rx.badge(
                run.verdict,
                color_scheme=rx.cond(run.verdict == "passed", "green", "red"),
                high_contrast=True,
                variant="soft",
            )
        ),
        rx.table.cell(run.turns_passed),
        rx.table.cell(run.turns_failed),
        rx.table.cell(
            rx.cond(
                run.failures.length() > 0,
                rx.el.ul(
                    rx.foreach(run.failures, lambda reason: rx.el.li(reason)),
                    style={"margin": "0", "padding_left": "1.1rem"},
                ),
                rx.text("none", size="2"),
            ),
        ),
        data_run=run.key,
    )


def _table() -> rx.Component:
    headings = ("Scenario", "When", "Result", "Turns passed", "Turns failed", "Failures")
    table = rx.table.root(
        rx.table.header(rx.table.row(*(rx.table.column_header_cell(h) for h in headings))),
        rx.table.body(rx.foreach(ScenariosState.runs, _row)),
        width="100%",
    )
    return scroll_region("Scenario runs", table, min_width="48rem")


@page_layout
def scenarios() -> rx.Component:
    """The last scenario runs, newest first."""
    s = ScenariosState
    return rx.vstack(
        rx.heading("Scenario runs", size="8", as_="h1"),
        rx.text(
            "The last runs of ",
            rx.code("python -m cvi_app.scenarios run PATH"),
            ", newest first (the last 20 are kept). Each row is one scenario file; a failed "
            "turn says why.",
        ),
        rx.cond(s.problem != "", rx.callout(s.problem, color_scheme="red", role="alert")),
        rx.cond(
            s.loading,
            rx.text("Loading the scenario runs…", role="status"),
            rx.cond(
                s.runs.length() > 0,
                _table(),
                rx.cond(
                    s.problem == "",
                    rx.text(
                        "No scenario runs yet. Run ",
                        rx.code("python -m cvi_app.scenarios run scenarios/"),
                        " and reload this page.",
                        id="scenarios-empty",
                    ),
                ),
            ),
        ),
        spacing="4",
        width="100%",
    )
