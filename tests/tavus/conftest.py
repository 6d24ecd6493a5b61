"""Fixtures for the Tavus client tests: the client against the sandbox REST API over real HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

import tests.sandbox.conftest as sandbox_fixtures
from cvi_app.tavus import TavusClient
from tests.sandbox.conftest import SandboxServer

# The sandbox tests' fixtures: one real server per session, a fresh registry per test.
asgi_host = sandbox_fixtures.asgi_host
serve_sandbox = sandbox_fixtures.serve_sandbox
sandbox_registry = sandbox_fixtures.sandbox_registry
sandbox_server = sandbox_fixtures.sandbox_server

FAST_RETRIES = {"retry_backoff": 0.01, "max_backoff": 0.05}


@pytest.fixture
async def tavus(sandbox_server: SandboxServer) -> AsyncIterator[TavusClient]:
    """A client for the sandbox API with the right key and short retry waits."""
    async with TavusClient(
        api_key=sandbox_server.api_key, base_url=sandbox_server.base_url, **FAST_RETRIES
    ) as client:
        yield client
