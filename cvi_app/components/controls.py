"""Room controls: plain functions taking values and handlers, so they depend on no state."""

from __future__ import annotations

from typing import Any

import reflex as rx

from cvi_app.protocol import SENSITIVITY_LEVELS

NO_PENDING: list[str] = []

MAX_MESSAGE_CHARS = 4000
"""The most the message box holds: a message must fit one 4 KB app-message (Echo splits)."""


def _pending(pending: rx.Var[list[str]] | list[str], name: str) -> rx.Var[bool] | bool:
    """Whether the control `name` is being sent (its button then shows a spinner)."""
    if isinstance(pending, list):
        return name in pending
    return pending.contains(name)


def _control_button(
    label: str,
    *,
    action: str,
    on_click: Any,
    enabled: rx.Var[bool],
    pending: rx.Var[list[str]] | list[str],
    **style: Any,
) -> rx.Component:
    """A control's button: disabled while controls cannot be used, spinning while it is sent."""
    if on_click is not None:
        style["on_click"] = on_click
    return rx.button(label, disabled=~enabled, loading=_pending(pending, action), **style)


def message_controls(
    *,
    message: rx.Var[str],
    on_change: Any,
    on_respond: Any,
    on_echo: Any,
    on_interrupt: Any,
    on_end: Any,
    enabled: rx.Var[bool],
    can_send: rx.Var[bool],
    pending: rx.Var[list[str]] | list[str] = NO_PENDING,
) -> rx.Component:
    """The message box with Respond, Echo, Interrupt and End conversation.

    Enter sends the message as Respond, Shift+Enter starts a new line. Respond and Echo wait for
    `can_send` (something written, the call live); a control in `pending` is being sent: its
    button is disabled and shows a spinner (its accessible name stays the same).
    """
    return rx.form(
        rx.vstack(
            rx.text_area(
                value=message,
                on_change=on_change,
                name="message",
                enter_key_submit=True,
                placeholder="What the user says (Enter: Respond) or the replica says (Echo)",
                aria_label="Message",
                max_length=MAX_MESSAGE_CHARS,
                width="100%",
                rows="3",
            ),
            rx.hstack(
                _control_button(
                    "Respond",
                    action="respond",
                    on_click=None,
                    enabled=can_send,
                    pending=pending,
                    type="submit",
                ),
                _control_button(
                    "Echo",
                    action="echo",
                    on_click=on_echo,
                    enabled=can_send,
                    pending=pending,
                    variant="soft",
                    type="button",
                ),
                _control_button(
                    "Interrupt",
                    action="interrupt",
                    on_click=on_interrupt,
                    enabled=enabled,
                    pending=pending,
                    variant="outline",
                    type="button",
                ),
                rx.spacer(),
                _control_button(
                    "End conversation",
                    action="end",
                    on_click=on_end,
                    enabled=enabled,
                    pending=pending,
                    color_scheme="red",
                    variant="soft",
                    type="button",
                ),
                width="100%",
                wrap="wrap",
            ),
            width="100%",
        ),
        on_submit=on_respond,
        reset_on_submit=False,
        width="100%",
    )


def context_controls(
    *,
    context: rx.Var[str],
    on_change: Any,
    on_overwrite: Any,
    on_append: Any,
    enabled: rx.Var[bool],
    pending: rx.Var[list[str]] | list[str] = NO_PENDING,
) -> rx.Component:
    """The context box with Overwrite context and Append context."""
    return rx.vstack(
        rx.text_area(
            value=context,
            on_change=on_change,
            placeholder="Conversational context",
            aria_label="Context",
            width="100%",
            rows="2",
        ),
        rx.hstack(
            _control_button(
                "Overwrite context",
                action="overwrite_context",
                on_click=on_overwrite,
                enabled=enabled,
                pending=pending,
                variant="soft",
            ),
            _control_button(
                "Append context",
                action="append_context",
                on_click=on_append,
                enabled=enabled,
                pending=pending,
                variant="soft",
            ),
        ),
        width="100%",
    )


def sensitivity_controls(
    *,
    pause: rx.Var[str],
    interrupt: rx.Var[str],
    on_pause: Any,
    on_interrupt: Any,
    enabled: rx.Var[bool] | bool = True,
) -> rx.Component:
    """Selects for the two turn-taking sensitivities (one message each)."""
    return rx.hstack(
        _select("Pause sensitivity", pause, on_pause, enabled),
        _select("Interrupt sensitivity", interrupt, on_interrupt, enabled),
        spacing="4",
        wrap="wrap",
    )


def _select(label: str, value: rx.Var[str], on_change: Any, enabled: rx.Var[bool] | bool):
    """A labelled select; the label names its trigger (what a screen reader announces)."""
    trigger_id = label.lower().replace(" ", "-")
    return rx.vstack(
        rx.el.label(label, html_for=trigger_id, style={"font_size": "var(--font-size-1)"}),
        rx.select.root(
            rx.select.trigger(id=trigger_id, aria_label=label),
            rx.select.content(
                rx.foreach(
                    list(SENSITIVITY_LEVELS), lambda level: rx.select.item(level, value=level)
                )
            ),
            value=value,
            on_change=on_change,
            disabled=~enabled if isinstance(enabled, rx.Var) else not enabled,
        ),
        spacing="1",
    )


def audio_upload(
    *,
    upload_id: str,
    on_upload: Any,
    enabled: rx.Var[bool],
    pending: rx.Var[bool] | bool = False,
    declared_size: Any = None,
) -> rx.Component:
    """Pick a WAV file and echo it as the replica's speech.

    `on_upload` is a streaming upload handler (`rx.UploadChunkIterator`); it also gets
    `declared_size` (the chosen file's size as the browser reports it) when given.
    """
    upload = rx.upload_files_chunk(upload_id=upload_id)
    return rx.hstack(
        # The label names the file input inside the drop zone; the button opens the picker
        # (the zone itself takes no keyboard focus, so there is one stop, not two).
        rx.el.label(
            rx.upload(
                rx.button("Choose WAV", variant="outline", size="1", disabled=~enabled),
                id=upload_id,
                disabled=~enabled,
                no_keyboard=True,
                accept={"audio/wav": [".wav"], "audio/x-wav": [".wav"]},
                max_files=1,
                border="none",
                padding="0",
            ),
        ),
        rx.text(rx.selected_files(upload_id), size="1"),
        rx.button(
            "Echo audio",
            size="1",
            disabled=~enabled,
            loading=pending,
            on_click=(
                on_upload(upload) if declared_size is None else on_upload(upload, declared_size)
            ),
        ),
        align="center",
    )


def speaking_indicator(label: str, speaking: rx.Var[bool]) -> rx.Component:
    """A badge that says whether someone is speaking."""
    return rx.badge(
        label + ": ",
        rx.cond(speaking, "speaking", "silent"),
        color_scheme=rx.cond(speaking, "green", "gray"),
        data_speaking=rx.cond(speaking, "true", "false"),
        aria_label=label + " speaking state",
    )


def tool_calls_table(rows: rx.Var[list[dict[str, str]]]) -> rx.Component:
    """Tool calls with their arguments, results and timings."""
    return rx.table.root(
        rx.table.header(
            rx.table.row(
                rx.table.column_header_cell("Tool"),
                rx.table.column_header_cell("Arguments"),
                rx.table.column_header_cell("Status"),
                rx.table.column_header_cell("Result"),
                rx.table.column_header_cell("Time"),
            )
        ),
        rx.table.body(
            rx.foreach(
                rows,
                lambda row: rx.table.row(
                    rx.table.cell(rx.code(row["name"])),
                    rx.table.cell(rx.code(row["arguments"])),
                    rx.table.cell(row["status"]),
                    rx.table.cell(row["output"]),
                    rx.table.cell(row["latency"]),
                ),
            )
        ),
        aria_label="Tool calls",
        size="1",
        width="100%",
    )


def tool_answer_form(
    *,
    waiting: rx.Var[list[str]],
    answer: rx.Var[str],
    on_change: Any,
    on_answer: Any,
    enabled: rx.Var[bool] | bool = True,
    pending: rx.Var[bool] | bool = False,
) -> rx.Component:
    """Answer, by hand, tool calls that no built-in tool handles (one button per waiting call)."""
    return rx.cond(
        waiting.length() > 0,
        rx.vstack(
            rx.text("Tool calls waiting for your answer", size="2", weight="medium"),
            rx.input(
                value=answer,
                on_change=on_change,
                placeholder='Result, e.g. {"status": "shipped"}',
                aria_label="Tool result",
                width="100%",
            ),
            rx.hstack(
                rx.foreach(
                    waiting,
                    lambda call_id: rx.button(
                        "Send result to ",
                        call_id,
                        size="1",
                        loading=pending,
                        disabled=~enabled if isinstance(enabled, rx.Var) else not enabled,
                        on_click=on_answer(call_id),
                    ),
                ),
                wrap="wrap",
            ),
            width="100%",
        ),
    )


def participants_panel(
    *,
    participants: rx.Var[list[dict[str, str]]],
    others: rx.Var[int],
    link: rx.Var[str],
    join_link: rx.Var[str],
) -> rx.Component:
    """Who is in the call, the app's own link to it, and the conversation's join link."""
    link_words = rx.match(
        link,
        ("connected", "The app is connected to the room."),
        ("reconnecting", "The app lost the room and is reconnecting…"),
        ("left", "The app has left the room."),
        ("joining", "The app is joining the room…"),
        "",
    )
    return rx.vstack(
        rx.heading("In the call", size="2", as_="h3"),
        rx.text(link_words, size="1", id="room-link"),
        rx.el.ul(
            rx.foreach(
                participants,
                lambda row: rx.el.li(
                    rx.text(
                        rx.text.strong(row["name"]),
                        " · ",
                        row["role"],
                        " · joined ",
                        row["joined"],
                        size="2",
                    )
                ),
            ),
            aria_label="Participants",
            style={"margin": "0", "padding_left": "1.25rem"},
        ),
        rx.cond(others > 0, rx.text("and ", others, " more", size="1")),
        rx.cond(
            join_link != "",
            rx.hstack(
                rx.input(
                    value=join_link,
                    read_only=True,
                    aria_label="Join link",
                    size="1",
                    width="100%",
                ),
                rx.button(
                    "Copy join link",
                    size="1",
                    variant="soft",
                    type="button",
                    on_click=[
                        rx.set_clipboard(join_link),
                        rx.toast.success("The join link was copied."),
                    ],
                ),
                width="100%",
                align="center",
            ),
        ),
        width="100%",
        spacing="2",
    )


def advanced_composer(
    *,
    message: rx.Var[str],
    on_change: Any,
    templates: list[str],
    on_template: Any,
    on_send: Any,
    enabled: rx.Var[bool],
    pending: rx.Var[bool] | bool = False,
) -> rx.Component:
    """Send any interaction as JSON, checked by the protocol's models before it goes out."""
    return rx.el.details(
        rx.el.summary("Send an interaction as JSON", style={"cursor": "pointer"}),
        rx.vstack(
            rx.hstack(
                rx.el.label("Template", html_for="composer-template"),
                rx.select.root(
                    rx.select.trigger(
                        id="composer-template",
                        aria_label="Template",
                        placeholder="Pick one",
                        # Radix's placeholder grey is below 4.5:1 on the page.
                        style={"& .rt-SelectTriggerInner": {"color": "var(--gray-11)"}},
                    ),
                    rx.select.content(*[rx.select.item(name, value=name) for name in templates]),
                    on_change=on_template,
                ),
                align="center",
                wrap="wrap",
            ),
            rx.text_area(
                value=message,
                on_change=on_change,
                aria_label="Interaction JSON",
                placeholder='{"message_type": "conversation", "event_type": ...}',
                rows="8",
                width="100%",
                style={"font_family": "var(--code-font-family)"},
            ),
            rx.button(
                "Send JSON",
                on_click=on_send,
                disabled=~enabled,
                loading=pending,
                type="button",
            ),
            width="100%",
            padding_top="0.5rem",
        ),
        width="100%",
    )
