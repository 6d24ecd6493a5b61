"""`DailyCall`: the Daily call frame (`@daily-co/daily-js` Prebuilt iframe) as a Reflex component.

Use it in tavus mode, where a conversation's `conversation_url` is a Daily room::

    from cvi_app.components.daily_call import daily_call, send_app_message

    daily_call(
        url=CallState.conversation_url,
        token=CallState.meeting_token,
        id="call",
        on_joined=CallState.joined,               # (participant: dict)
        on_app_message=CallState.app_message,     # (data: dict, sender_id: str)
    )
    rx.button("Wave", on_click=send_app_message("call", {"hello": "world"}))

The component joins on mount, leaves and destroys the frame on unmount, and rejoins when `url`,
`token` or `user_name` change. Participants reach handlers as
`{"id", "user_name", "user_id", "is_replica"}`. See `CALL_COMPONENTS.md` beside this file.
"""

from __future__ import annotations

from typing import Any

import reflex as rx
from reflex.event import EventSpec
from reflex.vars.base import LiteralVar, Var, VarData

__all__ = [
    "DAILY_JS",
    "CALL_REGISTRY",
    "CALL_SHARED_JS",
    "CallFrame",
    "DailyCall",
    "call_library",
    "daily_call",
    "send_app_message",
]

DAILY_JS = "@daily-co/daily-js@0.92.2"
"""The pinned daily-js release the frame is built on."""

CALL_REGISTRY = "__cviCallFrames"
"""`window.__cviCallFrames`: a Map from component id to `{sendAppMessage(data, to)}`."""

CALL_SHARED_JS = "call_shared.js"
"""What both call components' JSX import: the registry, the event triggers, the participant."""


def call_library(library: str, *imports: str) -> str:
    """Link a call component's JSX and the JS files it imports; return the JSX's import path.

    Reflex copies a module's shared assets (`rx.asset(..., shared=True)`) into a folder named
    after that module (`assets/external/<module path>/`), so a relative import such as
    `./call_shared.js` resolves only when that file is linked from the same module too. Call
    this from the component's module (it links into the caller's folder).

    Args:
        library: The component's `.jsx` file, beside the calling module.
        *imports: The files beside it that the `.jsx` imports as `./<name>`.

    Returns:
        The `library` value for the component (`$/public/external/...`).
    """
    for name in imports:
        rx.asset(name, shared=True, _stack_level=2)
    return rx.asset(library, shared=True, _stack_level=2).importable_path


def participant_spec(participant: Var[dict[str, Any]]) -> tuple[Var[dict[str, Any]]]:
    """Event spec: a participant `{"id", "user_name", "user_id", "is_replica"}`."""
    return (participant,)


def app_message_spec(
    data: Var[dict[str, Any]], sender_id: Var[str]
) -> tuple[Var[dict[str, Any]], Var[str]]:
    """Event spec: an app-message's data and its sender's participant id."""
    return (data, sender_id)


def text_spec(text: Var[str]) -> tuple[Var[str]]:
    """Event spec: one string (a reason or an error message)."""
    return (text,)


class CallFrame(rx.Component):
    """What every call view shares: the room to join, and the triggers it fires.

    `DailyCall` and `SandboxCall` both have this interface, so a page switches between them by
    mode alone.
    """

    url: rx.Var[str]
    """The room URL (the conversation's `conversation_url`)."""
    token: rx.Var[str | None]
    """The meeting token, for private rooms (`require_auth`)."""
    user_name: rx.Var[str]
    """The name others in the call see."""

    on_joined: rx.EventHandler[participant_spec]
    """We joined: this participant."""
    on_left: rx.EventHandler[text_spec]
    """We left, or the call ended: a reason."""
    on_participant_joined: rx.EventHandler[participant_spec]
    """Someone else joined (or was there when we joined)."""
    on_participant_left: rx.EventHandler[participant_spec]
    """Someone else left."""
    on_app_message: rx.EventHandler[app_message_spec]
    """An app-message from someone else: `(data, sender_id)`."""
    on_error: rx.EventHandler[text_spec]
    """The call reported an error, or the connection failed: a message."""


class DailyCall(CallFrame, rx.NoSSRComponent):
    """A Daily Prebuilt call frame joined to `url` (rendered in the browser only)."""

    library = call_library("daily_call.jsx", CALL_SHARED_JS)
    lib_dependencies: list[str] = [DAILY_JS]
    tag = "DailyCall"

    @classmethod
    def create(cls, *children: rx.Component, **props: Any) -> rx.Component:
        """Create the frame; it fills the width at 16:9 unless the page sizes it."""
        props.setdefault("width", "100%")
        props.setdefault("aspect_ratio", "16 / 9")
        props.setdefault("min_height", "360px")
        return super().create(*children, **props)


daily_call = DailyCall.create


def send_app_message(
    component_id: str, data: dict[str, Any] | Var[Any], to: str | Var[str] = "*"
) -> EventSpec:
    """An event that sends an app-message through a mounted call frame.

    Works for `DailyCall` and `SandboxCall` alike: both register themselves in the browser
    under their `id`. When no frame with that id is mounted, nothing is sent.

    Args:
        component_id: The `id` given to the call component.
        data: The message (a JSON-ready dict, or a state Var holding one).
        to: `"*"` for everyone else, or one participant id.

    Returns:
        An event spec to use as an event handler (`on_click=...`) or to return from one.
    """
    data_var = LiteralVar.create(data)
    to_var = LiteralVar.create(to)
    id_var = LiteralVar.create(component_id)
    code = Var(
        _js_expr=(
            f"window.{CALL_REGISTRY}?.get({id_var})?.sendAppMessage({data_var}, {to_var}) ?? false"
        ),
        _var_data=VarData.merge(data_var._get_all_var_data(), to_var._get_all_var_data()),
    )
    return rx.run_script(code)
