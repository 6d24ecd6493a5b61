"""Developer page `/dev/call-components`: the sandbox call view on its own, to try it in a browser.

Open `/dev/call-components?url=<conversation_url>` (add `&t=<meeting_token>` for a room that
requires one) to join that sandbox room as a participant.
"""

import reflex as rx

from cvi_app.components.layout import page_layout
from cvi_app.components.sandbox_call import sandbox_call, send_app_message

ROUTE = "/dev/call-components"
CALL_ID = "demo-call"
TEST_MESSAGE = {"message_type": "demo", "text": "hello from the page"}


@page_layout
def component_demo() -> rx.Component:
    """The page: a SandboxCall joined to the room named by `?url=`."""
    query = rx.State.router.url.query_parameters
    url = query["url"].to(str)
    return rx.vstack(
        rx.heading("Call components", size="6", as_="h1"),
        rx.cond(
            url,
            rx.vstack(
                sandbox_call(
                    url=url,
                    token=query["t"].to(str),
                    user_name="demo",
                    id=CALL_ID,
                    width="100%",
                    max_width="48rem",
                ),
                rx.button(
                    "Send a test app-message",
                    on_click=send_app_message(CALL_ID, TEST_MESSAGE),
                    variant="soft",
                ),
                width="100%",
            ),
            rx.text(
                "Add ?url=<conversation_url> to this page's address to join a sandbox room.",
                color_scheme="gray",
            ),
        ),
        spacing="4",
        width="100%",
    )
