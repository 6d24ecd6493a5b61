"""The operator console: every live conversation of the team in one table, updated live."""

import reflex as rx

from cvi_app.components.layout import page_layout, scroll_region
from cvi_app.state.console_state import ConsoleState

_COLUMNS = ("Conversation", "People", "Duration", "Last line", "Speaking", "Tool calls", "Alerts")


def _row(row) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.link(row["name"], href="/console/" + row["id"]),
            rx.text(row["persona"], " · ", row["replica"], size="1"),
            rx.cond(
                row["page_note"] != "",
                rx.text(row["page_note"], size="1"),
                rx.cond(
                    row["started_by"] != "", rx.text("started by ", row["started_by"], size="1")
                ),
            ),
        ),
        rx.table.cell(row["people"]),
        rx.table.cell(row["duration"]),
        rx.table.cell(rx.text(row["last_line"], size="2")),
        rx.table.cell(row["speaking"], data_speaking=row["speaking"]),
        rx.table.cell(row["tools"]),
        rx.table.cell(
            rx.cond(
                row["alerts"] != "",
                rx.text(row["alerts"], color_scheme="red", high_contrast=True, size="2"),
                rx.text("none", size="2"),
            )
        ),
        data_conversation=row["id"],
    )


def _table() -> rx.Component:
    table = rx.table.root(
        rx.table.header(rx.table.row(*(rx.table.column_header_cell(h) for h in _COLUMNS))),
        rx.table.body(rx.foreach(ConsoleState.rows, _row)),
        width="100%",
    )
    return scroll_region("Live conversations", table, min_width="60rem")


@page_layout
def console() -> rx.Component:
    """The live table, or why it cannot be shown."""
    return rx.vstack(
        rx.heading("Console", size="8", as_="h1"),
        rx.cond(
            ConsoleState.refusal != "",
            rx.callout(ConsoleState.refusal, color_scheme="red", role="alert"),
            rx.vstack(
                rx.text(
                    "Every live conversation, updated as it goes. Open one to watch it without "
                    "joining its call, and to steer it."
                ),
                rx.cond(
                    ~ConsoleState.loaded,
                    rx.spinner(size="3", aria_label="Loading the live conversations"),
                    rx.cond(
                        ConsoleState.rows.length() == 0,
                        rx.text("No conversation is live right now.", id="console-empty"),
                        _table(),
                    ),
                ),
                rx.cond(ConsoleState.cut_note != "", rx.text(ConsoleState.cut_note, size="2")),
                spacing="3",
                width="100%",
            ),
        ),
        spacing="4",
        width="100%",
    )
