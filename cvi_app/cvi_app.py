"""The Reflex app: theme, pages, and the HTTP routes served beside Reflex's own."""

import contextlib

import reflex as rx
from limits.storage import RedisStorage
from starlette.applications import Starlette
from starlette.routing import Mount

import cvi_app.accounts.models  # noqa: F401  (the accounts' tables, likewise)
import cvi_app.deployments.models  # noqa: F401  (the public pages' table, likewise)
import cvi_app.store.models  # noqa: F401  (the store's tables, for `reflex db makemigrations`)
from cvi_app.access.owner_cookie import owner_cookies
from cvi_app.access.web_guard import ASGIApp, WebGuard
from cvi_app.accounts.routes import SignInLimiter, sign_in_routes
from cvi_app.accounts.sign_in_cookie import SignInCookies
from cvi_app.analytics.routes import insights_routes
from cvi_app.components.storage_fallback import storage_fallback
from cvi_app.config import get_settings, sandbox_api_key
from cvi_app.deployments.embedding import framing_origins
from cvi_app.exports import export_routes
from cvi_app.live.bus_factory import configured_redis_url
from cvi_app.live.manager import get_manager
from cvi_app.live.reconcile import reconcile_at_startup
from cvi_app.pages.accounts import accounts
from cvi_app.pages.audit import audit
from cvi_app.pages.component_demo import ROUTE as DEV_ROUTE
from cvi_app.pages.component_demo import component_demo, dev_pages_enabled
from cvi_app.pages.console import console
from cvi_app.pages.conversation import conversation
from cvi_app.pages.deployments import deployments
from cvi_app.pages.guest import guest
from cvi_app.pages.history import history
from cvi_app.pages.home import home
from cvi_app.pages.insights import insights
from cvi_app.pages.not_found import not_found
from cvi_app.pages.room import room, watch_view
from cvi_app.pages.sign_in import sign_in
from cvi_app.pages.visit import visit
from cvi_app.sandbox.app import MountedSandbox, create_sandbox_app
from cvi_app.state import AppState
from cvi_app.state.accounts_state import AccountsState
from cvi_app.state.analytics_state import AnalyticsState
from cvi_app.state.audit_state import AuditState
from cvi_app.state.console_state import ConsoleState, WatchState
from cvi_app.state.conversation_state import ConversationState, TimelinePager, TranscriptPager
from cvi_app.state.deployments_state import DeploymentsState
from cvi_app.state.history_state import HistoryState
from cvi_app.state.home_state import HomeState
from cvi_app.state.insights_state import InsightsState
from cvi_app.state.invite_state import GuestState
from cvi_app.state.room_state import RoomState
from cvi_app.state.sign_in_state import SignInState
from cvi_app.state.visit_state import VisitState
from cvi_app.store import get_engine
from cvi_app.webhooks import webhook_routes


def _build_sandbox() -> Starlette:
    """The local Tavus of sandbox mode, with this app's settings."""
    settings = get_settings()
    return create_sandbox_app(
        api_key=sandbox_api_key(),
        max_concurrent=settings.sandbox_max_concurrent,
        words_per_second=settings.sandbox_words_per_second,
        twins=settings.sandbox_twins,
    )


# Built when the app starts (see `_run_sandbox`), not when this module is imported.
_sandbox = MountedSandbox(_build_sandbox)


def _extra_routes() -> Starlette:
    settings = get_settings()
    routes = [
        *webhook_routes(
            settings=settings,
            engine_factory=get_engine,
            verify_end=lambda cid: get_manager().conversation_at_api(cid),
            on_verified_end=lambda cid, reason: get_manager().close_ended(cid, reason=reason),
        ),
        *export_routes(engine_factory=get_engine, cookies=owner_cookies(settings)),
        *insights_routes(
            cookies=owner_cookies(settings), sign_ins=SignInCookies(secure=settings.secure_cookies)
        ),
        *sign_in_routes(
            cookies=SignInCookies(secure=settings.secure_cookies),
            origins=lambda: rx.config.get_config().cors_allowed_origins,
            limiter=SignInLimiter(
                per_account=settings.sign_in_limit_account,
                per_address=settings.sign_in_limit_address,
                storage=RedisStorage(redis_url) if (redis_url := configured_redis_url()) else None,
            ),
        ),
    ]
    # With a Tavus key, Tavus itself is used; with CVI_SANDBOX_URL, the sandbox service.
    if settings.sandbox_mounted:
        routes.append(Mount("/sandbox", app=_sandbox))
    return Starlette(routes=routes)


@contextlib.asynccontextmanager
async def _run_sandbox():
    """Serve the app's own sandbox while the app runs; it stops after the sessions."""
    if not get_settings().sandbox_mounted:
        yield
        return
    async with _sandbox.running():
        yield


@contextlib.asynccontextmanager
async def _close_sessions():
    await get_manager().start()
    yield
    await get_manager().aclose()


def _guard(backend: ASGIApp) -> ASGIApp:
    """Every request and websocket passes the web guard (headers, owner cookie, upload cap)."""
    settings = get_settings()
    return WebGuard(
        backend,
        cookies=owner_cookies(settings),
        connect_origins=settings.sandbox_service_origins,
        framing=framing_origins,
    )


app = rx.App(
    api_transformer=[_extra_routes(), _guard],
    head_components=[storage_fallback()],
    # Sonner's rich colours put green text on pale green at 4.25:1 (axe asks 4.5:1).
    toaster=rx.toast.provider(rich_colors=False),
)
# Lifespan tasks stop in reverse order: the sessions close before the sandbox they talk to.
app.register_lifespan_task(_run_sandbox)
app.register_lifespan_task(_close_sessions)
app.register_lifespan_task(reconcile_at_startup)
app.add_page(home, route="/", title="CVI Studio", on_load=[AppState.load_mode, HomeState.load])
app.add_page(
    room,
    route="/room/[conversation_id]",
    title="CVI Studio: room",
    on_load=[AppState.load_mode, RoomState.load],
)
if dev_pages_enabled(get_settings()):
    app.add_page(
        component_demo,
        route=DEV_ROUTE,
        title="CVI Studio: call components",
        on_load=AppState.load_mode,
    )
app.add_page(
    history,
    route="/history",
    title="CVI Studio: history",
    on_load=[AppState.load_mode, HistoryState.load],
)
app.add_page(
    conversation,
    route="/history/[conversation_id]",
    title="CVI Studio: conversation",
    on_load=[
        AppState.load_mode,
        ConversationState.load,
        TranscriptPager.load,
        TimelinePager.load,
        AnalyticsState.load,
    ],
)
app.add_page(
    console,
    route="/console",
    title="CVI Studio: console",
    on_load=[AppState.load_mode, ConsoleState.watch],
)
app.add_page(
    watch_view,
    route="/console/[conversation_id]",
    title="CVI Studio: watching a conversation",
    on_load=[AppState.load_mode, RoomState.load, WatchState.announce],
)
app.add_page(
    insights,
    route="/insights",
    title="CVI Studio: insights",
    on_load=[AppState.load_mode, InsightsState.load],
)
app.add_page(
    sign_in,
    route="/sign-in",
    title="CVI Studio: sign in",
    on_load=[AppState.load_mode, SignInState.load],
)
app.add_page(
    accounts,
    route="/accounts",
    title="CVI Studio: accounts",
    on_load=[AppState.load_mode, AccountsState.load],
)
app.add_page(
    audit,
    route="/audit",
    title="CVI Studio: audit log",
    on_load=[AppState.load_mode, AuditState.load],
)
app.add_page(
    deployments,
    route="/deployments",
    title="CVI Studio: public pages",
    on_load=[AppState.load_mode, DeploymentsState.load],
)
app.add_page(
    visit, route="/p/[slug]", title="Talk with us", on_load=[AppState.load_mode, VisitState.load]
)
app.add_page(
    guest,
    route="/guest",
    title="Join the conversation",
    on_load=[AppState.load_mode, GuestState.load],
)
app.add_page(not_found, route="404", title="CVI Studio: page not found", on_load=AppState.load_mode)
