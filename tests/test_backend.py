"""The extra HTTP routes the app serves depend on the mode: no local Tavus beside the real one."""

import json

from tests.support.fresh_python import last_line

SCRIPT = (
    "import json, cvi_app.backend as m; "
    "print(json.dumps([getattr(r, 'path', '') for r in m._extra_routes().routes]))"
)


def _routes(**env: str) -> list[str]:
    return json.loads(last_line(SCRIPT, **env))


def test_sandbox_mode_serves_the_local_tavus_webhooks_and_exports() -> None:
    routes = _routes()
    assert "/sandbox" in routes
    assert "/api/webhooks/tavus/{secret}" in routes


def test_importing_the_app_builds_no_sandbox() -> None:
    assert (
        last_line("import cvi_app.cvi_app, cvi_app.backend as m; print(m._sandbox._app is None)")
        == "True"
    )


def test_tavus_mode_does_not_serve_the_sandbox() -> None:
    routes = _routes(TAVUS_API_KEY="tvs-test-key")
    assert "/sandbox" not in routes
    assert "/api/webhooks/tavus/{secret}" in routes


CSP_SCRIPT = (
    "import cvi_app.backend as m; "
    "from starlette.applications import Starlette; "
    "from starlette.testclient import TestClient; "
    "print(TestClient(m._guard(Starlette())).get('/missing').headers['content-security-policy'])"
)


def _connect_sources(**env: str) -> list[str]:
    policy = last_line(CSP_SCRIPT, **env)
    (connect,) = [part.split()[1:] for part in policy.split("; ") if part.startswith("connect-")]
    return connect


def test_pages_may_connect_only_to_the_app_itself_with_the_mounted_sandbox() -> None:
    assert _connect_sources() == ["'self'"]


def test_pages_may_join_rooms_of_the_sandbox_service_the_app_uses() -> None:
    sources = _connect_sources(
        CVI_SANDBOX_URL="http://127.0.0.1:8100",
        CVI_SANDBOX_API_KEY="shared-sandbox-key",
        CVI_SANDBOX_PUBLIC_URL="https://sandbox.example.com",
    )
    assert sources == [
        "'self'",
        "http://127.0.0.1:8100",
        "ws://127.0.0.1:8100",
        "https://sandbox.example.com",
        "wss://sandbox.example.com",
    ]
