"""The audit log (admins only): who did what, when, newest first."""

import reflex as rx

from cvi_app.components.layout import page_layout, scroll_region
from cvi_app.state.audit_state import AuditState


def _table() -> rx.Component:
    table = rx.table.root(
        rx.table.header(
            rx.table.row(
                *(
                    rx.table.column_header_cell(h)
                    for h in ("When (UTC)", "Who", "What", "Conversation", "Details")
                )
            )
        ),
        rx.table.body(
            rx.foreach(
                AuditState.rows,
                lambda row: rx.table.row(
                    rx.table.cell(row["at"]),
                    rx.table.cell(row["actor"]),
                    rx.table.cell(row["action"]),
                    rx.table.cell(
                        rx.cond(
                            row["conversation"] != "",
                            rx.link(row["conversation"], href="/history/" + row["conversation"]),
                        )
                    ),
                    rx.table.cell(rx.text(row["detail"], size="2")),
                    data_audit=row["id"],
                ),
            )
        ),
        width="100%",
    )
    return scroll_region("Audit log", table, min_width="48rem")


@page_layout
def audit() -> rx.Component:
    """The audit log, for admins."""
    return rx.vstack(
        rx.heading("Audit log", size="8", as_="h1"),
        rx.cond(
            AuditState.allowed,
            rx.vstack(
                rx.cond(
                    AuditState.conversation_id != "",
                    rx.hstack(
                        rx.text("Only conversation ", rx.code(AuditState.conversation_id), "."),
                        rx.link("Show everything", href="/audit", reload_document=True),
                        wrap="wrap",
                    ),
                ),
                rx.cond(
                    AuditState.rows.length() == 0,
                    rx.text("Nothing has been recorded yet."),
                    _table(),
                ),
                rx.hstack(
                    rx.button("Newer entries", on_click=AuditState.newer, variant="soft", size="2"),
                    rx.button(
                        "Older entries",
                        on_click=AuditState.older,
                        disabled=~AuditState.has_older,
                        variant="soft",
                        size="2",
                    ),
                    spacing="3",
                ),
                spacing="4",
                width="100%",
            ),
            rx.text("Only admins can read the audit log."),
        ),
        spacing="4",
        width="100%",
    )
