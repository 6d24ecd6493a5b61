"""The extra HTTP routes the app serves depend on the mode: no local Tavus beside the real one."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = (
    "import json, cvi_app.cvi_app as m; "
    "print(json.dumps([getattr(r, 'path', '') for r in m._extra_routes().routes]))"
)


def _last_line(script: str, **env: str) -> str:
    """What a fresh Python prints last after running `script` with only `env` configured."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("TAVUS_", "CVI_"))}
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return result.stdout.strip().splitlines()[-1]


def _routes(**env: str) -> list[str]:
    return json.loads(_last_line(SCRIPT, **env))


def test_sandbox_mode_serves_the_local_tavus_webhooks_and_exports() -> None:
    routes = _routes()
    assert "/sandbox" in routes
    assert "/api/webhooks/tavus/{secret}" in routes


def test_importing_the_app_builds_no_sandbox() -> None:
    assert _last_line("import cvi_app.cvi_app as m; print(m._sandbox._app is None)") == "True"


def test_tavus_mode_does_not_serve_the_sandbox() -> None:
    routes = _routes(TAVUS_API_KEY="tvs-test-key")
    assert "/sandbox" not in routes
    assert "/api/webhooks/tavus/{secret}" in routes
