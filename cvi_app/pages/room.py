"""The room: the call, the conversation (transcript and message box), events and controls.

On a wide screen every part shows at once; on a phone a bar of four buttons shows one part at
a time, and the message box sits under the transcript so a reply is in view after a send.
"""

import reflex as rx

from cvi_app import styles
from cvi_app.components.call_view import call_view
from cvi_app.components.controls import (
    advanced_composer,
    audio_upload,
    context_controls,
    message_controls,
    participants_panel,
    sensitivity_controls,
    speaking_indicator,
    tool_answer_form,
    tool_calls_table,
)
from cvi_app.components.layout import page_layout
from cvi_app.components.live_feed import live_feed
from cvi_app.presentation.templates import INTERACTION_TEMPLATES
from cvi_app.sandbox.responder import SANDBOX_SIMULATES
from cvi_app.state.app_state import AppState
from cvi_app.state.invite_state import InviteState
from cvi_app.state.room_controls import RoomControlsState, selected_size
from cvi_app.state.room_state import FeedState, PresenceState, RoomState, SpeakingState

SECTIONS = (
    ("call", "Call"),
    ("conversation", "Conversation"),
    ("events", "Events"),
    ("controls", "Controls"),
)


def _status() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.badge(
                RoomState.status_text,
                aria_label="Conversation status",
                id="room-status",
                data_status=RoomState.status,
                color_scheme=rx.match(RoomState.status, ("live", "green"), "gray"),
                variant="surface",
                high_contrast=True,
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


def _ended() -> rx.Component:
    """What an ended room says, and where to go next."""
    return rx.cond(
        RoomState.status == "ended",
        rx.callout(
            rx.vstack(
                rx.text("This conversation has ended.", weight="bold"),
                rx.cond(
                    RoomState.end_reason != "",
                    rx.text(RoomState.end_reason, id="room-end-reason"),
                ),
                rx.hstack(
                    rx.link(rx.button("Start a new conversation"), href="/"),
                    rx.link(
                        rx.button("View in history", variant="soft"),
                        href="/history/" + RoomState.conversation_id,
                    ),
                    wrap="wrap",
                ),
                spacing="2",
            ),
            icon="info",
            role="status",
            id="room-ended",
            width="100%",
        ),
    )


def _section_bar(*, watch: bool) -> rx.Component:
    """On a phone: one button per part of the room; the pressed one is shown."""
    return rx.hstack(
        *[
            rx.button(
                "People" if watch and key == "call" else label,
                on_click=RoomState.show_section(key),
                variant=rx.cond(RoomState.section == key, "solid", "soft"),
                high_contrast=True,
                aria_pressed=rx.cond(RoomState.section == key, "true", "false"),
                aria_controls=f"room-{key}",
                size="2",
            )
            for key, label in SECTIONS
        ],
        display=rx.breakpoints(initial="flex", md="none"),
        wrap="wrap",
        width="100%",
        aria_label="Parts of the room",
        role="group",
    )


def _section(key: str, title: str, *children: rx.Component, heading: bool = True) -> rx.Component:
    """One part of the room: always shown on a wide screen, when chosen on a phone."""
    return rx.el.section(
        *([rx.heading(title, size="3", as_="h2")] if heading else []),
        *children,
        id=f"room-{key}",
        aria_label=title,
        display=rx.breakpoints(
            initial=rx.cond(RoomState.section == key, "flex", "none"), md="flex"
        ),
        style={"flex_direction": "column", "gap": "var(--space-3)", "min_width": "0"},
        width="100%",
    )


def _panel(
    name: str,
    *children: rx.Component,
    level: str = "h3",
    header: tuple[rx.Component, ...] = (),
    announce: bool = True,
) -> rx.Component:
    # A heading (and `header`) above a named, focusable scrolling log. `role=log` is a polite
    # live region unless told otherwise: a panel that does not `announce` is `aria-live=off`,
    # read only when a reader goes there. The log is a reversed column, so the browser keeps
    # it at its newest line while the reader is there and leaves it where a reader scrolled
    # to, with no script scrolling it (and no layout forced) per update; it is its own
    # compositing layer, so an update repaints the log, not the page.
    return rx.box(
        rx.box(
            rx.heading(name, size="3", as_=level),
            *header,
            style={
                "display": "flex",
                "flex_direction": "column",
                "gap": "0.5rem",
                "padding_bottom": "0.5rem",
            },
        ),
        rx.box(
            *children,
            role="log",
            aria_label=name,
            aria_live="polite" if announce else "off",
            tab_index=0,
            class_name="cvi-log",
            style={
                "max_height": "24rem",
                "overflow_y": "auto",
                "display": "flex",
                "flex_direction": "column-reverse",
                "contain": "content",
                "will_change": "transform",
            },
        ),
        style=styles.card_style,
        width="100%",
    )


def _people() -> rx.Component:
    return participants_panel(
        participants=PresenceState.participants,
        others=PresenceState.others,
        link=PresenceState.link,
        join_link=RoomState.conversation_url,
    )


def _call(*, watch: bool) -> rx.Component:
    if watch:
        return _section(
            "call",
            "People",
            rx.text(
                "You are watching without joining the call: the people in it do not see you. "
                "What you send is recorded with your name.",
                size="2",
                id="watch-note",
            ),
            rx.cond(
                SpeakingState.caption != "",
                rx.text("Replica: ", rx.text.em(SpeakingState.caption), size="2"),
            ),
            _people(),
        )
    return _section(
        "call",
        "Call",
        call_view(
            AppState.mode,
            RoomState.join_url,
            speaking=SpeakingState.replica,
            caption=SpeakingState.caption,
        ),
        rx.cond(
            AppState.mode == "sandbox",
            rx.el.details(
                rx.el.summary("About the sandbox's replica", style={"cursor": "pointer"}),
                rx.text(SANDBOX_SIMULATES, size="1", id="sandbox-note"),
            ),
        ),
        _people(),
        _invite(),
    )


def _invite() -> rx.Component:
    return rx.vstack(
        rx.button("Invite", variant="soft", size="2", on_click=InviteState.invite),
        rx.cond(
            InviteState.invite_link != "",
            rx.vstack(
                rx.text(
                    "Send this link to one person: it lets them join the call for an hour.",
                    size="2",
                ),
                rx.el.pre(
                    rx.el.code(InviteState.invite_link),
                    aria_label="Invitation link",
                    tab_index=0,
                    style={
                        "white_space": "pre-wrap",
                        "word_break": "break-all",
                        "margin": 0,
                        "font_size": "var(--font-size-1)",
                    },
                ),
                width="100%",
            ),
        ),
        width="100%",
        spacing="2",
    )


def _conversation() -> rx.Component:
    return _section(
        "conversation",
        "Conversation",
        _panel(
            "Transcript",
            live_feed(
                feed=FeedState.transcript,
                updates=FeedState.updates("transcript"),
                history_href="/history/" + RoomState.conversation_id,
                kind="transcript",
                filter="",
                empty_text="Nothing said yet.",
                on_gap=RoomState.resync,
            ),
        ),
        message_controls(
            message=RoomControlsState.message,
            on_change=RoomControlsState.set_message,
            on_respond=RoomControlsState.respond,
            on_echo=RoomControlsState.echo,
            on_interrupt=RoomControlsState.interrupt,
            on_end=RoomControlsState.end,
            enabled=RoomState.live,
            can_send=RoomControlsState.can_send_message,
            pending=RoomControlsState.pending,
        ),
    )


def _events() -> rx.Component:
    return _section(
        "events",
        "Events",
        _panel(
            "Events",
            live_feed(
                feed=FeedState.events,
                updates=FeedState.updates("events"),
                history_href="/history/" + RoomState.conversation_id,
                kind="events",
                filter=RoomState.event_filter,
                empty_text="No events yet.",
                on_gap=RoomState.resync,
            ),
            level="h2",
            header=(
                rx.input(
                    value=RoomState.event_filter,
                    on_change=RoomState.set_event_filter,
                    placeholder="Filter by type",
                    aria_label="Filter events",
                    size="1",
                ),
            ),
            announce=False,
        ),
        heading=False,
    )


def _controls() -> rx.Component:
    return _section(
        "controls",
        "Controls",
        context_controls(
            context=RoomControlsState.context,
            on_change=RoomControlsState.set_context,
            on_overwrite=RoomControlsState.overwrite_context,
            on_append=RoomControlsState.append_context,
            enabled=RoomState.live,
            pending=RoomControlsState.pending,
        ),
        sensitivity_controls(
            pause=RoomControlsState.pause_sensitivity,
            interrupt=RoomControlsState.interrupt_sensitivity,
            on_pause=RoomControlsState.set_pause_sensitivity,
            on_interrupt=RoomControlsState.set_interrupt_sensitivity,
            enabled=RoomState.live,
        ),
        audio_upload(
            upload_id="echo-audio",
            on_upload=RoomControlsState.upload_echo_audio,
            enabled=RoomState.live,
            pending=RoomControlsState.pending.contains("audio"),
            declared_size=selected_size("echo-audio"),
        ),
        rx.heading("Tool calls", size="3", as_="h3"),
        tool_calls_table(RoomState.tool_calls),
        tool_answer_form(
            waiting=RoomState.unanswered_tool_calls,
            answer=RoomControlsState.tool_answer,
            on_change=RoomControlsState.set_tool_answer,
            on_answer=RoomControlsState.answer_tool_call,
            enabled=RoomState.live,
            pending=RoomControlsState.pending.contains("tool_result"),
        ),
        advanced_composer(
            message=RoomControlsState.raw_message,
            on_change=RoomControlsState.set_raw_message,
            templates=list(INTERACTION_TEMPLATES),
            on_template=RoomControlsState.use_template,
            on_send=RoomControlsState.send_raw,
            enabled=RoomState.live,
            pending=RoomControlsState.pending.contains("raw"),
        ),
    )


def _room(*, watch: bool = False) -> rx.Component:
    name = rx.cond(RoomState.name != "", RoomState.name, "Conversation")
    return rx.vstack(
        rx.heading(*(["Watching: "] if watch else []), name, size="5", as_="h1"),
        *([rx.link("Back to the console", href="/console")] if watch else []),
        rx.text("Conversation id ", rx.code(RoomState.conversation_id), size="1"),
        _status(),
        _ended(),
        _section_bar(watch=watch),
        rx.grid(
            _call(watch=watch),
            _conversation(),
            _events(),
            _controls(),
            columns=rx.breakpoints(initial="1", md="2"),
            spacing="5",
            width="100%",
        ),
        spacing="4",
        width="100%",
    )


@page_layout
def room() -> rx.Component:
    """One conversation's room (or why it cannot be shown)."""
    return _shown(_room())


@page_layout
def watch_view() -> rx.Component:
    """One conversation watched and steered from the console, without joining its call."""
    return _shown(_room(watch=True))


def _shown(content: rx.Component) -> rx.Component:
    """The room's content, or why it cannot be shown, or that it is loading."""
    return rx.cond(
        RoomState.status == "forbidden",
        rx.vstack(
            rx.heading("Conversation not available", size="5", as_="h1"),
            rx.callout(RoomState.error, icon="lock", color_scheme="red", role="alert"),
            rx.link("Start a conversation of your own", href="/"),
        ),
        rx.cond(
            RoomState.status == "loading",
            rx.vstack(
                rx.heading("Conversation", size="5", as_="h1"),
                rx.spinner(size="3", aria_label="Loading the conversation"),
            ),
            content,
        ),
    )
