"""History: this browser's conversations, searchable by name, filterable by status, paged."""

import reflex as rx

from cvi_app.components.layout import page_layout, scroll_region
from cvi_app.state.history_state import STATUSES, HistoryState


def _filters(query, on_query, status, on_status) -> rx.Component:
    return rx.hstack(
        rx.input(
            value=query,
            on_change=on_query,
            debounce_timeout=300,
            placeholder="Search by name",
            aria_label="Search conversations",
            width="20rem",
        ),
        # rx.select hands only some props to its trigger (the element people reach): the name
        # goes there through custom_attrs (an aria_label would land on the root, unrendered).
        rx.select(
            STATUSES, value=status, on_change=on_status, custom_attrs={"aria-label": "Status"}
        ),
        spacing="3",
        wrap="wrap",
    )


def _table(rows) -> rx.Component:
    table = rx.table.root(
        rx.table.header(
            rx.table.row(
                *(rx.table.column_header_cell(h) for h in ("Name", "Status", "Started", "Ended"))
            )
        ),
        rx.table.body(
            rx.foreach(
                rows,
                lambda row: rx.table.row(
                    rx.table.cell(
                        rx.link(row["name"], href="/history/" + row["id"]),
                        rx.text(row["persona"], " · ", row["replica"], size="1"),
                        rx.cond(row["page_note"] != "", rx.text(row["page_note"], size="1")),
                        rx.text(row["id"], size="1", color_scheme="gray"),
                    ),
                    rx.table.cell(rx.badge(row["status"]), rx.text(row["reason"], size="1")),
                    rx.table.cell(row["created"]),
                    rx.table.cell(row["ended"]),
                    data_conversation=row["id"],
                ),
            )
        ),
        width="100%",
    )
    return scroll_region("Conversations", table)


def pager(label: str, *, page, pages, has_previous, has_next, on_previous, on_next):
    """Previous/next buttons around "page X of Y"."""
    return rx.hstack(
        rx.button("Previous page", on_click=on_previous, disabled=~has_previous, variant="soft"),
        rx.text(f"{label} ", page, " of ", pages, size="2"),
        rx.button("Next page", on_click=on_next, disabled=~has_next, variant="soft"),
        align="center",
        spacing="3",
    )


@page_layout
def history() -> rx.Component:
    """The history list."""
    return rx.vstack(
        rx.heading("History", size="5", as_="h1"),
        _filters(
            HistoryState.query, HistoryState.set_query, HistoryState.status, HistoryState.set_status
        ),
        rx.cond(
            HistoryState.error != "",
            rx.callout(HistoryState.error, color_scheme="red", role="alert"),
        ),
        rx.cond(
            (HistoryState.total == 0) & ~HistoryState.loading,
            rx.text("No conversations found.", id="history-empty"),
            _table(HistoryState.rows),
        ),
        pager(
            "Page",
            page=HistoryState.page,
            pages=HistoryState.page_count,
            has_previous=HistoryState.has_previous,
            has_next=HistoryState.has_next,
            on_previous=HistoryState.previous_page,
            on_next=HistoryState.next_page,
        ),
        spacing="4",
        width="100%",
    )
