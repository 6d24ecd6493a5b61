"""The sandbox as the app mounts it: built when the host starts, gone when it stops."""

from __future__ import annotations

import httpx
from starlette.applications import Starlette
from starlette.routing import Mount

from cvi_app.sandbox.app import MountedSandbox, create_sandbox_app
from tests.support.servers import serve_asgi

KEY = "sandbox-test-key"


def _host(mounted: MountedSandbox, *, lifespan: bool) -> Starlette:
    return Starlette(
        routes=[Mount("/sandbox", app=mounted)],
        lifespan=(lambda _: mounted.running()) if lifespan else None,
    )


def test_the_sandbox_is_built_when_the_host_starts_and_answers_while_it_runs() -> None:
    builds: list[Starlette] = []

    def build() -> Starlette:
        builds.append(create_sandbox_app(api_key=KEY))
        return builds[-1]

    mounted = MountedSandbox(build)
    assert builds == []  # making the mount builds nothing
    with serve_asgi(_host(mounted, lifespan=True), lifespan="on") as url:
        answer = httpx.get(f"{url}/sandbox/v2/replicas", headers={"x-api-key": KEY})
        assert answer.status_code == 200
        assert answer.json()["data"]
    assert len(builds) == 1


def test_a_host_that_has_not_started_the_sandbox_says_so_in_plain_words() -> None:
    mounted = MountedSandbox(lambda: create_sandbox_app(api_key=KEY))
    with serve_asgi(_host(mounted, lifespan=False)) as url:
        answer = httpx.get(f"{url}/sandbox/v2/replicas", headers={"x-api-key": KEY})
    assert answer.status_code == 503
    assert answer.json() == {"message": "The sandbox is not running."}
