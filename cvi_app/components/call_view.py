"""The call view for the current mode: the Daily iframe with Tavus, the sandbox call otherwise."""

import reflex as rx

from cvi_app.components.daily_call import daily_call
from cvi_app.components.sandbox_call import sandbox_call

CALL_ID = "call"


def call_view(
    mode: rx.Var[str],
    join_url: rx.Var[str],
    *,
    speaking: rx.Var[bool] | None = None,
    caption: rx.Var[str] | None = None,
) -> rx.Component:
    """Join `join_url` (which carries the meeting token) in the browser, once it is known.

    `speaking` and `caption`, when given, are what the sandbox tile shows (the page's one view
    of who speaks); the Daily call shows Tavus's own video.
    """
    tile = {} if speaking is None else {"speaking": speaking, "show_say_box": False}
    if caption is not None:
        tile["caption"] = caption
    return rx.box(
        rx.cond(
            join_url == "",
            rx.text("The call is not live.", color_scheme="gray"),
            rx.cond(
                mode == "tavus",
                daily_call(url=join_url, id=CALL_ID, width="100%", height="24rem"),
                sandbox_call(url=join_url, id=CALL_ID, **tile),
            ),
        ),
        width="100%",
    )
