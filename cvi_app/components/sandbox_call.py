"""`SandboxCall`: the sandbox room's call view as a Reflex component.

The sandbox (`cvi_app.sandbox`) stands in for Tavus and Daily when no API key is set. This
component joins a sandbox room over its WebSocket as a participant and shows the replica's tile
(speaking indicator, live captions), with a "Say something" box whose text the simulated replica
hears as speech. Props, event triggers and `send_app_message` match `DailyCall`, so a page can
switch between them by mode::

    from cvi_app.components.sandbox_call import sandbox_call, send_app_message

    sandbox_call(url=CallState.conversation_url, id="call", on_app_message=CallState.app_message)

Accessible names: the tile is a region named "Replica" with `data-speaking="true|false"` and
the text "Speaking" or "Listening"; the captions are named "Captions"; the textbox is named
"Say something" and its button "Say". With `transparent=True` the tile has no fill of its own
(as `VisitorCall`'s keyed replica): a `replica_image` without a backdrop lies on the page.
"""

from __future__ import annotations

import reflex as rx
from reflex.config import get_config

from cvi_app.components.daily_call import CALL_SHARED_JS, CallFrame, call_library, send_app_message

__all__ = ["DEFAULT_REPLICA_IMAGE", "SandboxCall", "sandbox_call", "send_app_message"]

DEFAULT_REPLICA_IMAGE = "/sandbox_replica.svg"
"""The app asset shown as the replica's tile (`assets/sandbox_replica.svg`)."""


class SandboxCall(CallFrame):
    """A participant's view of a sandbox room: replica tile, captions and a box to speak."""

    # The display; the room connection is `useSandboxRoom` in sandbox_room.js.
    library = call_library("sandbox_call.jsx", CALL_SHARED_JS, "sandbox_room.js")
    tag = "SandboxCall"

    replica_image: rx.Var[str]
    """The picture on the replica's tile."""

    speaking: rx.Var[bool]
    """Whether the replica speaks, when the page knows (else the tile follows the room)."""

    caption: rx.Var[str]
    """The replica's current words, when the page knows (else the tile follows the room)."""

    show_say_box: rx.Var[bool]
    """Whether to show the "Say something" box (default True; at most 1,000 characters)."""

    transparent: rx.Var[bool]
    """Whether the tile has no fill, its picture on the page's background (default False)."""

    @classmethod
    def create(cls, *children: rx.Component, **props: object) -> rx.Component:
        """Create the component; the replica image defaults to the app's sandbox asset."""
        props.setdefault("replica_image", _default_replica_image())
        return super().create(*children, **props)


def _default_replica_image() -> str:
    return get_config().prepend_frontend_path(DEFAULT_REPLICA_IMAGE)


sandbox_call = SandboxCall.create
