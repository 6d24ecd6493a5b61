"""`VisitorCall`: the end user's view of a Tavus conversation, on Daily's call object.

Where `DailyCall` puts Daily Prebuilt in an iframe, this component builds the call itself with
`@daily-co/daily-react` (over `@daily-co/daily-js`): the replica as the main view (its video and
audio, an outline in `accent` while it speaks, live captions), the visitor's own camera small and
mirrored in a corner, the call's buttons and a status line in plain words. Props, triggers and
`send_app_message` match `DailyCall` where they overlap, so a page can swap one for the other::

    from cvi_app.components.visitor_call import send_app_message, visitor_call

    visitor_call(
        url=VisitState.conversation_url,  # nothing joins while it is ""
        token=VisitState.meeting_token,
        user_name="Guest",
        id="call",
        captions=True,
        accent="var(--accent-9)",
        transparent=False,  # True: the replica's greenscreen keyed out over the page
        on_joined=VisitState.joined,  # (participant: dict)
        on_left=VisitState.left,  # (reason: str)
        on_app_message=VisitState.app_message,  # (data: dict, sender_id: str)
        on_error=VisitState.log_error,  # (message: str): the technical message
        on_leave=VisitState.visitor_left,  # (): the visitor pressed Leave, the call is left
    )
    rx.button("Wave", on_click=send_app_message("call", {"hello": "world"}))

The call is joined on mount (when `url` is set), left and rejoined when `url`, `token`,
`user_name` or `id` change, and left and destroyed on unmount; events of a call that was left
that way reach no trigger. It uses the devices the pre-join check chose
(`window.__cviDevices`, see `device_check.py`): camera and microphone as the call's video and
audio sources, the speaker as its output once joined. Participants reach handlers as
`{"id", "user_name", "user_id", "is_replica"}`; `on_participant_joined` fires for everyone
already there when we join, too. `on_left` fires once per joined call (`"left"`, the room's
reason such as `"ejected"` or `"exp-room"`, or the connection's); a room that closes the call
ends it without `on_error`.

What it shows, with the names tests and assistive technology find it by:

- a status line (`role="status"`): "Not connected yet.", "Connecting…", "Waiting for the agent
  to join…", "Connected.", "Reconnecting…", "The call has ended.", or for a failure "We could not
  connect the call. Check your connection and try again." (the error itself goes to `on_error`
  only);
- the region "Replica" (`data-speaking="true|false"`, "Speaking"/"Listening"): the participant
  whose user id or name contains `tavus-replica`; it speaks while Daily says it is the active
  speaker, or, once it has sent any, between its `conversation.replica.started_speaking` and
  `stopped_speaking` app-messages; only app-messages from the replica move it;
- captions (`role="log"` named "Captions", when `captions` is true, the default): the replica's
  latest `conversation.utterance` (`properties.role == "replica"`, `properties.speech`);
- the region "You": the visitor's camera, mirrored, or "Camera off";
- buttons (a group "Call controls"; icons only below 520 px of width, labelled above): "Turn off
  microphone"/"Turn on microphone", "Turn off camera"/"Turn on camera", "Share screen"/"Stop
  sharing" (where the browser can share a screen; from joining on), "Leave", and "Turn on sound"
  when the browser held back the replica's audio.

With `transparent=True` (for a conversation created with Tavus's `apply_greenscreen: true`), the
replica's video is drawn through `ChromaKeyVideo` (`chroma_key.js`, WebGL): its flat green
(RGB 0, 255, 155) becomes transparent, and the region "Replica" has no fill of its own, so the
page's background shows around the replica. The keyed picture is a canvas (`role="img"`, named
"The agent"); a browser without WebGL shows the plain video instead.

Colours, spacing and type are the Radix theme's tokens. See `CALL_COMPONENTS.md` beside this
file for `DailyCall` and `SandboxCall`.
"""

from __future__ import annotations

from typing import Any

import reflex as rx
from reflex.event import no_args_event_spec

from cvi_app.components.daily_call import (
    CALL_SHARED_JS,
    DAILY_JS,
    CallFrame,
    call_library,
    send_app_message,
)

__all__ = [
    "CHROMA_KEY_JS",
    "DAILY_REACT",
    "DEFAULT_ACCENT",
    "JOTAI",
    "VisitorCall",
    "send_app_message",
    "visitor_call",
]

DAILY_REACT = "@daily-co/daily-react@0.26.0"
"""The pinned daily-react release the view is built on."""

JOTAI = "jotai@2.20.3"
"""daily-react's peer dependency (`jotai: ^2`), pinned; its other peers are React and daily-js."""

DEFAULT_ACCENT = "var(--accent-9)"
"""The speaking outline's colour when `accent` is not given."""

CHROMA_KEY_JS = "chroma_key.js"
"""`ChromaKeyVideo`, which keys the replica's greenscreen out when `transparent` is set."""


class VisitorCall(CallFrame, rx.NoSSRComponent):
    """A visitor's call with a Tavus replica on Daily's call object (rendered in the browser only).

    `url`, `token`, `user_name`, `id` and the `on_*` triggers are `CallFrame`'s (as `DailyCall`).
    """

    # The display; the call itself is `useVisitorCall` in visitor_room.js.
    library = call_library("visitor_call.jsx", CALL_SHARED_JS, "visitor_room.js", CHROMA_KEY_JS)
    lib_dependencies: list[str] = [DAILY_JS, DAILY_REACT, JOTAI]
    tag = "VisitorCall"

    captions: rx.Var[bool]
    """Whether to show the replica's live words (default True)."""

    accent: rx.Var[str]
    """A CSS colour for the outline while the replica speaks (default `var(--accent-9)`)."""

    transparent: rx.Var[bool]
    """Whether to key out the replica's greenscreen over the page's background (default False)."""

    on_leave: rx.EventHandler[no_args_event_spec]
    """The visitor pressed Leave, and the call is left (after `on_left`)."""

    @classmethod
    def create(cls, *children: rx.Component, **props: Any) -> rx.Component:
        """Create the call view; it fills the width unless the page sizes it."""
        props.setdefault("width", "100%")
        return super().create(*children, **props)


visitor_call = VisitorCall.create
