"""Room controls: plain functions taking values and handlers, so they depend on no state."""

from __future__ import annotations

from typing import Any

import reflex as rx

from cvi_app.protocol import SENSITIVITY_LEVELS

NO_PENDING: list[str] = []


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
    return rx.button(
        label,
        on_click=on_click,
        disabled=~enabled,
        loading=_pending(pending, action),
        **style,
    )


def message_controls(
    *,
    message: rx.Var[str],
    on_change: Any,
    on_respond: Any,
    on_echo: Any,
    on_interrupt: Any,
    on_end: Any,
    enabled: rx.Var[bool],
    pending: rx.Var[list[str]] | list[str] = NO_PENDING,
) -> rx.Component:
    """The message box with Respond, Echo, Interrupt and End conversation.

    A control in `pending` is being sent: its button is disabled and shows a spinner (its
    accessible name stays the same).
    """
    return rx.vstack(
        rx.text_area(
            value=message,
            on_change=on_change,
            placeholder="Type what the user says (Respond) or what the replica says (Echo)",
            aria_label="Message",
            width="100%",
            rows="3",
        ),
        rx.hstack(
            _control_button(
                "Respond",
                action="respond",
                on_click=on_respond,
                enabled=enabled,
                pending=pending,
            ),
            _control_button(
                "Echo",
                action="echo",
                on_click=on_echo,
                enabled=enabled,
                pending=pending,
                variant="soft",
            ),
            _control_button(
                "Interrupt",
                action="interrupt",
                on_click=on_interrupt,
                enabled=enabled,
                pending=pending,
                variant="outline",
            ),
            rx.spacer(),
            _control_button(
                "End conversation",
                action="end",
                on_click=on_end,
                enabled=enabled,
                pending=pending,
                color_scheme="red",
            ),
            width="100%",
            wrap="wrap",
        ),
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
) -> rx.Component:
    """Selects for the two turn-taking sensitivities (one message each)."""
    return rx.hstack(
        rx.vstack(
            rx.text("Pause sensitivity", size="1"),
            rx.select(
                list(SENSITIVITY_LEVELS),
                value=pause,
                on_change=on_pause,
                aria_label="Pause sensitivity",
            ),
        ),
        rx.vstack(
            rx.text("Interrupt sensitivity", size="1"),
            rx.select(
                list(SENSITIVITY_LEVELS),
                value=interrupt,
                on_change=on_interrupt,
                aria_label="Interrupt sensitivity",
            ),
        ),
        spacing="4",
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
        rx.upload(
            rx.button("Choose WAV", variant="outline", size="1"),
            id=upload_id,
            accept={"audio/wav": [".wav"], "audio/x-wav": [".wav"]},
            max_files=1,
            border="none",
            padding="0",
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
        aria_live="polite",
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
                        on_click=on_answer(call_id),
                    ),
                ),
                wrap="wrap",
            ),
            width="100%",
        ),
    )
