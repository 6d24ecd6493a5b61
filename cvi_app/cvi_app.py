"""The Reflex app: theme, pages, and the HTTP routes served beside Reflex's own."""

import contextlib

import reflex as rx
from starlette.applications import Starlette
from starlette.routing import Mount

import cvi_app.store.models  # noqa: F401  (the store's tables, for `reflex db makemigrations`)
from cvi_app.config import get_settings
from cvi_app.live.manager import get_manager
from cvi_app.pages.component_demo import component_demo
from cvi_app.pages.home import home
from cvi_app.pages.room import room
from cvi_app.sandbox.app import create_sandbox_app
from cvi_app.state import AppState
from cvi_app.state.home_state import HomeState
from cvi_app.state.room_state import RoomState


def _extra_routes() -> Starlette:
    settings = get_settings()
    sandbox = create_sandbox_app(
        api_key=settings.sandbox_api_key.get_secret_value() if settings.sandbox_api_key else None,
        max_concurrent=settings.sandbox_max_concurrent,
        words_per_second=settings.sandbox_words_per_second,
        twins=settings.sandbox_twins,
    )
    return Starlette(routes=[Mount("/sandbox", app=sandbox)])


@contextlib.asynccontextmanager
async def _close_sessions():
    yield
    await get_manager().aclose()


app = rx.App(api_transformer=_extra_routes())
app.register_lifespan_task(_close_sessions)
app.add_page(home, route="/", title="CVI Studio", on_load=[AppState.load_mode, HomeState.load])
app.add_page(
    room,
    route="/room/[conversation_id]",
    title="CVI Studio: room",
    on_load=[AppState.load_mode, RoomState.load],
)
app.add_page(
    component_demo,
    route="/dev/call-components",
    title="CVI Studio: call components",
    on_load=AppState.load_mode,
)
