"""The room: the call view, every control, and the live transcript, events and tool calls."""

import reflex as rx

from cvi_app import styles
from cvi_app.components.call_view import call_view
from cvi_app.components.controls import (
    audio_upload,
    context_controls,
    message_controls,
    sensitivity_controls,
    speaking_indicator,
    tool_answer_form,
    tool_calls_table,
)
from cvi_app.components.layout import page_layout
from cvi_app.components.live_feed import live_feed
from cvi_app.state.app_state import AppState
from cvi_app.state.room_state import FeedState, RoomState, SpeakingState, selected_size


def _status() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.badge(RoomState.status, aria_label="Conversation status", id="room-status"),
            rx.cond(
                RoomState.end_reason != "",
                rx.text(RoomState.end_reason, size="1", id="room-end-reason"),
            ),
            speaking_indicator("Replica", SpeakingState.replica),
            speaking_indicator("User", SpeakingState.user),
            align="center",
            wrap="wrap",
        ),
        rx.cond(
            RoomState.notice != "",
            rx.callout(
                RoomState.notice,
                icon="triangle_alert",
                color_scheme="amber",
                role="status",
                id="room-notice",
                size="1",
            ),
        ),
        width="100%",
    )


def _controls() -> rx.Component:
    return rx.vstack(
        message_controls(
            message=RoomState.message,
            on_change=RoomState.set_message,
            on_respond=RoomState.respond,
            on_echo=RoomState.echo,
            on_interrupt=RoomState.interrupt,
            on_end=RoomState.end,
            enabled=RoomState.live,
            pending=RoomState.pending,
        ),
        context_controls(
            context=RoomState.context,
            on_change=RoomState.set_context,
            on_overwrite=RoomState.overwrite_context,
            on_append=RoomState.append_context,
            enabled=RoomState.live,
            pending=RoomState.pending,
        ),
        sensitivity_controls(
            pause=RoomState.pause_sensitivity,
            interrupt=RoomState.interrupt_sensitivity,
            on_pause=RoomState.set_pause_sensitivity,
            on_interrupt=RoomState.set_interrupt_sensitivity,
        ),
        audio_upload(
            upload_id="echo-audio",
            on_upload=RoomState.upload_echo_audio,
            enabled=RoomState.live,
            pending=RoomState.pending.contains("audio"),
            declared_size=selected_size("echo-audio"),
        ),
        width="100%",
        spacing="3",
    )


def _log(
    name: str,
    *children: rx.Component,
    header: tuple[rx.Component, ...] = (),
    announce: bool = True,
) -> rx.Component:
    # A named, focusable scrolling panel; its heading (and `header`) stay in view while the
    # list scrolls under them. `role=log` is a polite live region unless told otherwise: a
    # panel that does not `announce` is `aria-live=off`, read only when a reader goes there.
    return rx.box(
        rx.box(
            rx.heading(name, size="3"),
            *header,
            style={
                "position": "sticky",
                "top": "-1rem",
                "z_index": "1",
                "margin": "-1rem 0 0",
                "padding": "1rem 0 0.5rem",
                "background": styles.card_style["background"],
                "display": "flex",
                "flex_direction": "column",
                "gap": "0.5rem",
            },
        ),
        *children,
        role="log",
        aria_label=name,
        aria_live="polite" if announce else "off",
        tab_index=0,
        # Rows scrolled to (by keyboard focus) stop below the header, not under it.
        style={
            **styles.card_style,
            "max_height": "24rem",
            "overflow_y": "auto",
            "scroll_padding_top": "6rem" if header else "3.5rem",
        },
        width="100%",
    )


def _room() -> rx.Component:
    return rx.vstack(
        rx.heading("Conversation ", rx.code(RoomState.conversation_id), size="5", as_="h1"),
        _status(),
        rx.grid(
            call_view(AppState.mode, RoomState.join_url),
            _controls(),
            columns=rx.breakpoints(initial="1", md="2"),
            spacing="4",
            width="100%",
        ),
        rx.grid(
            _log(
                "Transcript",
                live_feed(
                    feed=FeedState.transcript,
                    kind="transcript",
                    filter="",
                    empty_text="Nothing said yet.",
                    on_gap=RoomState.resync,
                ),
            ),
            _log(
                "Events",
                live_feed(
                    feed=FeedState.events,
                    kind="events",
                    filter=RoomState.event_filter,
                    empty_text="No events yet.",
                    on_gap=RoomState.resync,
                ),
                header=(
                    rx.input(
                        value=RoomState.event_filter,
                        on_change=RoomState.set_event_filter,
                        placeholder="Filter by type or sent/received",
                        aria_label="Filter events",
                        size="1",
                    ),
                ),
                announce=False,
            ),
            columns=rx.breakpoints(initial="1", md="2"),
            spacing="4",
            width="100%",
        ),
        rx.heading("Tool calls", size="3"),
        tool_calls_table(RoomState.tool_calls),
        tool_answer_form(
            waiting=RoomState.unanswered_tool_calls,
            answer=RoomState.tool_answer,
            on_change=RoomState.set_tool_answer,
            on_answer=RoomState.answer_tool_call,
            pending=RoomState.pending.contains("tool_result"),
        ),
        spacing="4",
        width="100%",
    )


@page_layout
def room() -> rx.Component:
    """One conversation's room (or why it cannot be shown)."""
    return rx.cond(
        RoomState.status == "forbidden",
        rx.callout(RoomState.error, icon="lock", color_scheme="red", role="alert"),
        rx.cond(RoomState.status == "loading", rx.spinner(size="3"), _room()),
    )
