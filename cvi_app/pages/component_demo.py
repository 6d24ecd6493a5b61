"""Developer page `/dev/call-components`: the sandbox call view on its own, to try it in a browser.

Served only in development (`reflex run`), or where `CVI_DEV_PAGES=true` asks for it. Open
`/dev/call-components?conversation=<conversation_id>` (add `&t=<meeting_token>` for a room that
requires one) to join that conversation's room in this app's own sandbox as a participant; the
page never connects anywhere else.
"""

import reflex as rx
from reflex import constants
from reflex.environment import environment

from cvi_app.components.layout import page_layout
from cvi_app.components.sandbox_call import sandbox_call, send_app_message
from cvi_app.config import SANDBOX_API_PREFIX, Settings

ROUTE = "/dev/call-components"
CALL_ID = "demo-call"
TEST_MESSAGE = {"message_type": "demo", "text": "hello from the page"}
# The app's own sandbox rooms, on the page's own origin (beside the mounted REST API).
ROOMS_PATH = SANDBOX_API_PREFIX.rsplit("/", 1)[0] + "/rooms/"


def dev_pages_enabled(settings: Settings) -> bool:
    """Whether developer pages are served: `CVI_DEV_PAGES` when set, else only in development."""
    if settings.dev_pages is not None:
        return settings.dev_pages
    return environment.REFLEX_ENV_MODE.get() == constants.Env.DEV


@page_layout
def component_demo() -> rx.Component:
    """The page: a SandboxCall joined to the sandbox room of `?conversation=`."""
    query = rx.State.router.url.query_parameters
    conversation = query["conversation"].to(str)
    return rx.vstack(
        rx.heading("Call components", size="6", as_="h1"),
        rx.cond(
            conversation,
            rx.vstack(
                sandbox_call(
                    url=ROOMS_PATH + conversation,
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
                "Add ?conversation=<conversation_id> to this page's address to join that "
                "sandbox room.",
                color_scheme="gray",
            ),
        ),
        spacing="4",
        width="100%",
    )
