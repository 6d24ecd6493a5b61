"""What serves the app beside its pages: HTTP routes, the web guard, and start-up tasks.

`install_backend(app)` adds to a Reflex app everything a conversation needs on the server: the
webhook, export, insights and sign-in routes, the sandbox (mounted in sandbox mode), the web
guard every request passes (security headers, the owner cookie, the upload cap, framing), the
session manager's start and stop, and the start-up reconcile. The studio (`cvi_app.cvi_app`)
and host apps using the kit (`cvi_app.kit.install`) both call it, so both serve the same.
"""

from __future__ import annotations

import contextlib

import reflex as rx
from limits.storage import RedisStorage
from starlette.applications import Starlette
from starlette.routing import Mount

import cvi_app.accounts.models  # noqa: F401  (the accounts' tables, for `reflex db makemigrations`)
import cvi_app.deployments.models  # noqa: F401  (the public pages' tables, likewise)
import cvi_app.store.models  # noqa: F401  (the store's tables, likewise)
from cvi_app.access.owner_cookie import owner_cookies
from cvi_app.access.web_guard import ASGIApp, WebGuard
from cvi_app.accounts.routes import SignInLimiter, sign_in_routes
from cvi_app.accounts.sign_in_cookie import SignInCookies
from cvi_app.analytics.routes import insights_routes
from cvi_app.config import get_settings, sandbox_api_key
from cvi_app.deployments.embedding import framing_origins
from cvi_app.exports import export_routes
from cvi_app.live.bus_factory import configured_redis_url
from cvi_app.live.manager import get_manager
from cvi_app.live.reconcile import reconcile_at_startup
from cvi_app.sandbox.app import MountedSandbox, create_sandbox_app
from cvi_app.store import get_engine
from cvi_app.webhooks import webhook_routes

__all__ = ["install_backend"]


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


def install_backend(app: rx.App) -> rx.App:
    """Add the backend's routes, guard and start-up tasks to `app` (before it is served).

    The app's own `api_transformer`s, if any, run inside these.
    """
    own = app.api_transformer
    mine: list = [_extra_routes(), _guard]
    if own is None:
        app.api_transformer = mine
    else:
        app.api_transformer = [*(own if isinstance(own, list | tuple) else [own]), *mine]
    # Lifespan tasks stop in reverse order: the sessions close before the sandbox they talk to.
    app.register_lifespan_task(_run_sandbox)
    app.register_lifespan_task(_close_sessions)
    app.register_lifespan_task(reconcile_at_startup)
    return app
