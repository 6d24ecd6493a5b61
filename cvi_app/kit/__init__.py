"""The kit: a Tavus conversation on a page of your own Reflex app, driven from Python.

    import reflex as rx
    from cvi_app import kit

    class Support(kit.ConversationState, rx.State):
        async def on_utterance(self, role: str, text: str) -> None:
            ...  # your logic, on the server

    def index() -> rx.Component:
        return kit.conversation(Support, greeting="Hi! Ask me about your order.")

    app = kit.install(rx.App())
    app.add_page(index)

See docs/kit.md for every prop, method and handler.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable

import reflex as rx

from cvi_app.backend import install_backend
from cvi_app.kit.component import conversation
from cvi_app.kit.presets import PRESET_REFUSED, Settings
from cvi_app.kit.state import HOOKS, MAX_LINES, ConversationState
from cvi_app.live.manager import add_host_tools
from cvi_app.live.tools import ToolRegistry

__all__ = [
    "HOOKS",
    "MAX_LINES",
    "PRESET_REFUSED",
    "ConversationState",
    "Settings",
    "ToolRegistry",
    "conversation",
    "install",
]


def install(
    app: rx.App,
    *,
    tools: Callable[[ToolRegistry], None] | None = None,
    migrate: bool = True,
) -> rx.App:
    """Serve conversations from `app`: the routes, the sandbox, the sessions, the database.

    Args:
        app: The host's Reflex app (before it is served).
        tools: `register(tools)`, which adds the host's Python tools (`@tools.tool`): the
            replica's calls to them are answered on the server, before any page's handler.
        migrate: Bring the database in Reflex's `db_url` to the store's latest schema when the
            app starts (off when migrations are run by hand, e.g. `make migrate`).

    Returns:
        The same app.
    """
    if tools is not None:
        add_host_tools(tools)
    if migrate:
        app.register_lifespan_task(_migrate)
    return install_backend(app)


@contextlib.asynccontextmanager
async def _migrate() -> AsyncIterator[None]:
    from cvi_app.store.migrate import upgrade_to_head

    await asyncio.to_thread(upgrade_to_head)
    yield
