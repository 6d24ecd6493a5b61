"""One stored conversation: facts, exports, the paged transcript and timeline, tool calls."""

import reflex as rx

from cvi_app import styles
from cvi_app.components.analytics import facts_list, simple_table, timeline_chart
from cvi_app.components.controls import tool_calls_table
from cvi_app.components.layout import page_layout, scroll_region
from cvi_app.components.native_form import BACKEND_ORIGIN
from cvi_app.state import AppState
from cvi_app.state.analytics_state import AnalyticsState
from cvi_app.state.conversation_state import (
    NOT_YOURS,
    ConversationState,
    TimelinePager,
    TranscriptPager,
)

EXPORTS = [
    ("json", "Transcript (JSON)"),
    ("md", "Transcript (Markdown)"),
    ("vtt", "Captions (WebVTT)"),
    ("jsonl", "Raw events (JSONL)"),
]


def _facts(info) -> rx.Component:
    def fact(label: str, value, **props) -> rx.Component:
        return rx.data_list.item(rx.data_list.label(label), rx.data_list.value(value, **props))

    return rx.data_list.root(
        fact("Status", rx.badge(info["status"]), id="conversation-status"),
        fact("Mode", info["mode"]),
        fact("Started", info["created"]),
        fact("Ended", info["ended"]),
        fact("Shutdown reason", info["reason"], id="shutdown-reason"),
        fact("Persona", info["persona"]),
        fact("Replica", info["replica"]),
        rx.cond(info["page"] != "", fact("Public page", info["page"], id="conversation-page")),
        rx.cond(info["rating"] != "", fact("Visitor's rating", info["rating"], id="rating")),
        rx.cond(
            info["recording"] != "",
            fact(
                "Recording",
                rx.cond(
                    info["recording_link"] != "",
                    rx.link(
                        "Open the recording",
                        href=info["recording_link"],
                        is_external=True,
                        rel="noopener noreferrer",
                    ),
                    rx.code(info["recording"], style={"word_break": "break-all"}),
                ),
                id="recording",
            ),
        ),
        orientation=rx.breakpoints(initial="vertical", sm="horizontal"),
    )


def _exports(conversation_id) -> rx.Component:
    base = BACKEND_ORIGIN + "/api/conversations/" + conversation_id + "/export."
    return rx.hstack(
        *(
            # A document navigation: the router must not treat the download as a page.
            rx.link(label, href=base + ext, download="", reload_document=True)
            for ext, label in EXPORTS
        ),
        aria_label="Exports",
        spacing="4",
        wrap="wrap",
    )


def _paged(name: str, noun: str, body, *, has_older, has_newer, on_older, on_newer):
    return rx.box(
        rx.heading(name, size="3", as_="h2"),
        body,
        rx.hstack(
            rx.button(f"Older {noun}", on_click=on_older, disabled=~has_older, variant="soft"),
            rx.button(f"Newer {noun}", on_click=on_newer, disabled=~has_newer, variant="soft"),
            spacing="3",
        ),
        role="log",
        aria_label=name,
        style=styles.card_style,
        width="100%",
    )


def _transcript(rows) -> rx.Component:
    return rx.vstack(
        rx.foreach(
            rows,
            lambda line: rx.box(
                rx.text(line["speaker"], " · ", line["at"], size="1", color_scheme="gray"),
                rx.text(line["text"]),
                data_role=line["role"],
            ),
        ),
        rx.cond(rows.length() == 0, rx.text("Nothing was said.", size="2")),
        spacing="2",
        width="100%",
        padding_y="0.5rem",
    )


def _timeline(rows) -> rx.Component:
    cells = ("Time (UTC)", "Source", "Type", "Seq", "Summary")
    table = rx.table.root(
        rx.table.header(rx.table.row(*(rx.table.column_header_cell(c) for c in cells))),
        rx.table.body(
            rx.foreach(
                rows,
                lambda row: rx.table.row(
                    rx.table.cell(row["time"]),
                    rx.table.cell(row["source"]),
                    rx.table.cell(rx.code(row["type"])),
                    rx.table.cell(row["seq"]),
                    rx.table.cell(row["summary"]),
                    data_type=row["type"],
                ),
            )
        ),
        size="1",
        width="100%",
    )
    return scroll_region("Event timeline", table)


def _webhooks(rows) -> rx.Component:
    return rx.vstack(
        rx.foreach(
            rows,
            lambda row: rx.text(
                rx.code(row["type"]), " ", row["time"], " ", row["summary"], size="2"
            ),
        ),
        rx.cond(rows.length() == 0, rx.text("No webhooks received.", size="2")),
        aria_label="Webhooks",
        spacing="1",
    )


def _conversation() -> rx.Component:
    info = ConversationState.info
    return rx.vstack(
        rx.heading(info["name"], size="5", as_="h1"),
        rx.code(ConversationState.conversation_id),
        _facts(info),
        _exports(ConversationState.conversation_id),
        rx.cond(
            AppState.signed_in_role == "admin",
            rx.link(
                "Who did what to this conversation (audit log)",
                href="/audit?conversation=" + ConversationState.conversation_id,
            ),
        ),
        rx.cond(
            ConversationState.has_official,
            rx.segmented_control.root(
                rx.segmented_control.item("Live", value="live"),
                rx.segmented_control.item("Official", value="official"),
                value=TranscriptPager.source,
                on_change=TranscriptPager.set_source,
                aria_label="Transcript source",
            ),
        ),
        _paged(
            "Transcript",
            "lines",
            _transcript(TranscriptPager.rows),
            has_older=TranscriptPager.has_older,
            has_newer=TranscriptPager.has_newer,
            on_older=TranscriptPager.older,
            on_newer=TranscriptPager.newer,
        ),
        _paged(
            "Events",
            "events",
            _timeline(TimelinePager.rows),
            has_older=TimelinePager.has_older,
            has_newer=TimelinePager.has_newer,
            on_older=TimelinePager.older,
            on_newer=TimelinePager.newer,
        ),
        _analytics(),
        rx.heading("Tool calls", size="3", as_="h2"),
        scroll_region("Tool calls", tool_calls_table(ConversationState.tool_calls)),
        rx.heading("Webhooks", size="3", as_="h2"),
        _webhooks(ConversationState.webhooks),
        spacing="4",
        width="100%",
    )


def _analytics() -> rx.Component:
    a = AnalyticsState
    return rx.el.section(
        rx.heading("Analytics", size="3", as_="h2"),
        rx.cond(
            a.error != "",
            rx.callout(a.error, color_scheme="red", role="alert"),
            rx.cond(
                a.ready,
                rx.vstack(
                    facts_list(a.facts, name="Figures"),
                    rx.heading("Who spoke when", size="2", as_="h3"),
                    timeline_chart(
                        a.timeline,
                        a.marks,
                        summary="Timeline of the conversation: when the replica and the user "
                        "spoke; dashed lines mark tool calls (green) and interruptions (red).",
                    ),
                    rx.cond(a.note != "", rx.text(a.note, size="1")),
                    rx.heading("Turns", size="2", as_="h3"),
                    rx.cond(
                        a.turns.length() == 0,
                        rx.text("The replica has not answered a turn yet.", size="2"),
                        simple_table(
                            "Turns",
                            a.turns,
                            [
                                ("n", "Turn"),
                                ("at", "At"),
                                ("after", "Answering"),
                                ("latency", "Response latency"),
                            ],
                        ),
                    ),
                    spacing="3",
                    width="100%",
                ),
                rx.spinner(size="2", aria_label="Computing the figures"),
            ),
        ),
        aria_label="Analytics",
        id="analytics",
        style={"width": "100%", "display": "flex", "flex_direction": "column", "gap": "0.75rem"},
    )


def _unavailable(message: str, **callout) -> rx.Component:
    return rx.vstack(
        rx.heading("Conversation not shown", size="5", as_="h1"),
        rx.callout(message, color_scheme="red", role="alert", **callout),
        rx.link("Back to your history", href="/history"),
        spacing="4",
    )


@page_layout
def conversation() -> rx.Component:
    """One conversation from the history (or why it cannot be shown)."""
    return rx.match(
        ConversationState.access,
        ("ok", _conversation()),
        ("denied", _unavailable(NOT_YOURS, icon="lock")),
        ("error", _unavailable("The conversation could not be read. Try again later.")),
        rx.spinner(size="3", aria_label="Loading the conversation"),
    )
