"""Starts are metered per browser and per address before anything is created at the API."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from cvi_app.access.caller import TEAM_OWNER
from cvi_app.access.start_limits import StartLimited
from cvi_app.config import Settings
from cvi_app.live.manager import NotAllowedError, SessionManager, StartOptions
from cvi_app.presentation.errors import describe_error
from cvi_app.store.conversations import get_conversation
from cvi_app.store.db import get_engine, run_in_transaction
from tests.support.sandbox import SANDBOX_KEY, LiveSandbox


@pytest.fixture
async def limited(
    mounted_sandbox: LiveSandbox, app_database: str, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[SessionManager]:
    monkeypatch.delenv("TAVUS_API_KEY", raising=False)
    settings = Settings(  # type: ignore[call-arg]
        CVI_PUBLIC_URL=mounted_sandbox.root_url,
        CVI_SANDBOX_API_KEY=SANDBOX_KEY,
        CVI_START_LIMIT_BROWSER="2/minute",
        CVI_START_LIMIT_ADDRESS="3/minute",
        CVI_LIVE_LIMIT_BROWSER="5",
    )
    manager = SessionManager(settings)
    yield manager
    await manager.aclose()


async def _count_at_api(sandbox: LiveSandbox) -> int:
    response = await sandbox.api.get("/v2/conversations", params={"limit": 100})
    return int(response.json()["total_count"])


async def test_a_browser_is_refused_past_its_start_rate_and_nothing_is_created(
    limited: SessionManager, mounted_sandbox: LiveSandbox
) -> None:
    for _ in range(2):
        await limited.start_conversation(owner="a" * 64, options=StartOptions(), address="10.0.0.1")
    with pytest.raises(StartLimited) as refused:
        await limited.start_conversation(owner="a" * 64, options=StartOptions(), address="10.0.0.1")
    assert describe_error(refused.value).startswith(
        "You have started too many conversations in a short time; try again in"
    )
    assert await _count_at_api(mounted_sandbox) == 2


async def test_new_browsers_from_one_address_are_refused_past_the_address_rate(
    limited: SessionManager, mounted_sandbox: LiveSandbox
) -> None:
    # Each anonymous client is a new browser; the address still adds up.
    for n in range(3):
        await limited.start_conversation(
            owner=f"{n}" * 64, options=StartOptions(), address="10.0.0.2"
        )
    with pytest.raises(StartLimited, match="Your network has started too many"):
        await limited.start_conversation(owner="9" * 64, options=StartOptions(), address="10.0.0.2")
    # Another address is not held back.
    await limited.start_conversation(owner="8" * 64, options=StartOptions(), address="10.0.0.3")
    assert await _count_at_api(mounted_sandbox) == 4


async def test_a_browser_holds_a_bounded_number_of_live_conversations(
    mounted_sandbox: LiveSandbox, app_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TAVUS_API_KEY", raising=False)
    settings = Settings(  # type: ignore[call-arg]
        CVI_PUBLIC_URL=mounted_sandbox.root_url,
        CVI_SANDBOX_API_KEY=SANDBOX_KEY,
        CVI_LIVE_LIMIT_BROWSER="1",
    )
    manager = SessionManager(settings)
    try:
        first = await manager.start_conversation(owner="b" * 64, options=StartOptions())
        with pytest.raises(StartLimited, match="You already have 1 live conversations; end one"):
            await manager.start_conversation(owner="b" * 64, options=StartOptions())
        await manager.end_conversation(first.conversation_id, owner="b" * 64)
        await manager.start_conversation(owner="b" * 64, options=StartOptions())
    finally:
        await manager.aclose()


async def test_a_browser_without_an_owner_identity_cannot_start(limited: SessionManager) -> None:
    with pytest.raises(NotAllowedError, match="reload the page"):
        await limited.start_conversation(owner="", options=StartOptions())


async def test_with_accounts_starts_are_metered_per_account_and_the_team_shares_a_live_limit(
    mounted_sandbox: LiveSandbox, app_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TAVUS_API_KEY", raising=False)
    settings = Settings(  # type: ignore[call-arg]
        CVI_PUBLIC_URL=mounted_sandbox.root_url,
        CVI_SANDBOX_API_KEY=SANDBOX_KEY,
        CVI_START_LIMIT_BROWSER="1/minute",
        CVI_LIVE_LIMIT_TEAM="3",
    )
    manager = SessionManager(settings)
    try:
        # One start each: the limit counts the account, not the team they share.
        for who in ("bob@example.com", "ada@example.com"):
            started = await manager.start_conversation(
                owner=TEAM_OWNER, options=StartOptions(), started_by=who
            )
        with pytest.raises(StartLimited, match="You have started too many"):
            await manager.start_conversation(
                owner=TEAM_OWNER, options=StartOptions(), started_by="ada@example.com"
            )
        await manager.start_conversation(
            owner=TEAM_OWNER, options=StartOptions(), started_by="cy@example.com"
        )
        with pytest.raises(StartLimited, match="Your team already has 3 live conversations"):
            await manager.start_conversation(
                owner=TEAM_OWNER, options=StartOptions(), started_by="dan@example.com"
            )
        assert await _count_at_api(mounted_sandbox) == 3
        record = await run_in_transaction(
            get_engine(), lambda s: get_conversation(s, conversation_id=started.conversation_id)
        )
        assert record is not None
        assert (record.owner_session, record.started_by) == (TEAM_OWNER, "ada@example.com")
    finally:
        await manager.aclose()
