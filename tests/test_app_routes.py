"""The extra HTTP routes the app serves depend on the mode: no local Tavus beside the real one."""

import json

from tests.support.fresh_python import last_line

SCRIPT = (
    "import json, cvi_app.cvi_app as m; "
    "print(json.dumps([getattr(r, 'path', '') for r in m._extra_routes().routes]))"
)


def _routes(**env: str) -> list[str]:
    return json.loads(last_line(SCRIPT, **env))


def test_sandbox_mode_serves_the_local_tavus_webhooks_and_exports() -> None:
    routes = _routes()
    assert "/sandbox" in routes
    assert "/api/webhooks/tavus/{secret}" in routes


def test_importing_the_app_builds_no_sandbox() -> None:
    assert last_line("import cvi_app.cvi_app as m; print(m._sandbox._app is None)") == "True"


def test_tavus_mode_does_not_serve_the_sandbox() -> None:
    routes = _routes(TAVUS_API_KEY="tvs-test-key")
    assert "/sandbox" not in routes
    assert "/api/webhooks/tavus/{secret}" in routes
