"""`conversation(State, ...)`: a conversation on a host page, the call and what is said in it.

It shows a Start button; once started, the end-user call (the sandbox call in sandbox mode,
`VisitorCall` on Daily's call object with a Tavus key), a status line, the latest lines of the
transcript, End, and, with `controls=True`, the operator's controls (respond, echo, interrupt,
context). The settings given as props are signed into the page (`cvi_app.kit.presets`).
"""

from __future__ import annotations

import reflex as rx

from cvi_app.components.sandbox_call import sandbox_call
from cvi_app.components.visitor_call import visitor_call
from cvi_app.config import get_settings
from cvi_app.kit.presets import Preset, sign_preset
from cvi_app.kit.state import ConversationState

__all__ = ["conversation"]

_STATUS = {
    "idle": "",
    "starting": "Starting the conversation…",
    "joining": "Connecting…",
    "live": "The conversation is live.",
    "ended": "The conversation has ended.",
}


def _status_text(state: type[ConversationState]) -> rx.Var:
    return rx.match(
        state.status,
        *((key, text) for key, text in _STATUS.items()),
        "",
    )


def _call(state: type[ConversationState], ident: str, captions: bool) -> rx.Component:
    if get_settings().mode == "tavus":
        return visitor_call(
            url=state.join_url,
            id=ident,
            user_name="Guest",
            captions=captions,
            on_left=state.call_left,
            on_leave=state.end,
        )
    return sandbox_call(
        url=state.join_url,
        id=ident,
        user_name="Guest",
        on_left=state.call_left,
        width="100%",
        **({} if captions else {"caption": ""}),
    )


def _transcript(state: type[ConversationState]) -> rx.Component:
    return rx.box(
        rx.foreach(
            state.lines,
            lambda line: rx.text(
                rx.text.strong(rx.cond(line["role"] == "user", "You", "Agent"), ": "),
                line["text"],
                size="2",
                data_role=line["role"],
            ),
        ),
        role="log",
        aria_label="Transcript",
        tab_index=0,  # it scrolls: keyboard users reach it too
        max_height="12rem",
        overflow_y="auto",
        width="100%",
    )


def _value_of(field: str) -> rx.Var:
    """The text in the page's box `field`, read when the button is pressed."""
    return rx.Var(f"document.getElementById({field!r}).value").to(str)


def _text_form(label: str, field: str, buttons: list[tuple[str, object]]) -> rx.Component:
    """A text box and its buttons; each button sends the text to its own handler."""
    return rx.vstack(
        rx.el.label(label, html_for=field, style={"font_weight": "500"}),
        rx.text_area(id=field, name=field, rows="2", width="100%", max_length=2000),
        rx.hstack(
            *(
                rx.button(
                    text,
                    type="button",
                    variant="soft",
                    on_click=handler(_value_of(field)),  # type: ignore[operator]
                )
                for text, handler in buttons
            ),
            wrap="wrap",
            spacing="2",
        ),
        width="100%",
        spacing="1",
    )


def _controls(state: type[ConversationState], ident: str) -> rx.Component:
    return rx.vstack(
        _text_form(
            "Say to the agent", f"{ident}-say", [("Respond", state.respond), ("Echo", state.echo)]
        ),
        rx.button("Interrupt", type="button", variant="soft", on_click=state.interrupt),
        _text_form(
            "The agent's context",
            f"{ident}-context",
            [
                ("Add to context", state.append_context),
                ("Replace context", state.overwrite_context),
            ],
        ),
        role="group",
        aria_label="Conversation controls",
        width="100%",
        spacing="3",
    )


def conversation(
    state: type[ConversationState],
    *,
    persona: str | None = None,
    replica: str | None = None,
    name: str = "",
    greeting: str = "",
    context: str = "",
    language: str = "",
    max_call_duration: int | None = None,
    participant_left_timeout: int | None = None,
    controls: bool = False,
    captions: bool = True,
    start_label: str = "Start the conversation",
    id: str = "cvi-conversation",  # noqa: A002 - the element's id, as in Reflex's own props
) -> rx.Component:
    """A conversation on the page, driven by `state` (a `ConversationState` subclass).

    Args:
        state: The host's `ConversationState` subclass (its handlers get the events).
        persona: The persona's id (default: the state's settings, else the API's default).
        replica: The replica's id (default: the persona's).
        name: The conversation's name, as the studio's history lists it.
        greeting: The replica's first words.
        context: What the replica knows from the start.
        language: The conversation's language (e.g. "english").
        max_call_duration: Seconds the call may last.
        participant_left_timeout: Seconds the conversation lasts after everyone left.
        controls: Show the operator's controls (respond, echo, interrupt, context).
        captions: Show the replica's words over its video.
        start_label: The Start button's words.
        id: The element's id (and the call's, for `send_app_message`).

    Returns:
        The component.
    """
    preset = sign_preset(
        Preset(
            persona_id=persona,
            replica_id=replica,
            name=name,
            greeting=greeting,
            context=context,
            language=language,
            max_call_duration=max_call_duration,
            participant_left_timeout=participant_left_timeout,
        )
    )
    return rx.vstack(
        rx.cond(
            state.live,
            rx.vstack(
                rx.cond(state.join_url != "", _call(state, f"{id}-call", captions)),
                rx.button(
                    "End conversation",
                    type="button",
                    color_scheme="red",
                    variant="soft",
                    on_click=state.end,
                ),
                *([_controls(state, id)] if controls else []),
                width="100%",
                spacing="3",
            ),
            rx.button(start_label, type="button", size="3", on_click=state.start(preset)),
        ),
        rx.text(_status_text(state), role="status", size="2"),
        rx.cond(
            state.error != "",
            rx.callout(state.error, color_scheme="red", role="alert", size="1"),
        ),
        rx.cond(state.end_reason != "", rx.text(state.end_reason, size="2")),
        _transcript(state),
        id=id,
        width="100%",
        spacing="3",
    )
