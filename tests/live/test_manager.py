"""SessionManager against the sandbox REST API and rooms (mounted at /sandbox, as in the app),
with the store on a real SQLite database."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from cvi_app.config import Settings
from cvi_app.live.manager import NotAllowedError, SessionManager, StartOptions
from cvi_app.live.session import SessionError
from cvi_app.presentation.errors import describe_error
from cvi_app.store import session_scope
from cvi_app.store.conversations import get_conversation
from cvi_app.store.models import Conversation, ConversationEvent
from cvi_app.tavus import TavusError
from cvi_app.tavus.errors import TavusAPIError
from tests.support.sandbox import SANDBOX_KEY, LiveSandbox
from tests.support.servers import wait_for


def stored(engine: Engine, cid: str) -> Conversation | None:
    with session_scope(engine) as s:
        return get_conversation(s, conversation_id=cid)


def stored_texts(engine: Engine, cid: str) -> list[str | None]:
    with session_scope(engine) as s:
        rows = s.exec(select(ConversationEvent).where(ConversationEvent.conversation_id == cid))
        return [row.text for row in rows]


async def test_a_started_conversation_is_recorded_with_its_owner_and_its_room_is_joined(
    manager: SessionManager, engine: Engine
) -> None:
    options = StartOptions(name="Demo call", greeting="Welcome to the test.", context="Be brief.")
    conversation = await manager.start_conversation(owner="tab-a", options=options)
    cid = conversation.conversation_id

    row = stored(engine, cid)
    assert row is not None
    assert (row.owner_session, row.mode, row.name, row.status) == (
        "tab-a",
        "sandbox",
        "Demo call",
        "active",
    )
    assert (row.greeting, row.context) == ("Welcome to the test.", "Be brief.")
    assert row.conversation_url == conversation.conversation_url
    session = manager.session_for(cid, owner="tab-a")
    assert session.status == "live"
    assert await manager.live_conversations(owner="tab-a") == [cid]
    assert manager.live_session(cid) is session
    join_url = manager.join_url(cid)
    assert join_url.startswith(str(conversation.conversation_url))
    assert conversation.meeting_token and conversation.meeting_token in join_url
    # The replica greets the session; what it says is recorded.
    await wait_for(
        lambda: "Welcome to the test." in stored_texts(engine, cid), what="the greeting stored"
    )


async def test_another_owner_can_neither_use_nor_end_a_conversation(
    manager: SessionManager, mounted_sandbox: LiveSandbox
) -> None:
    conversation = await manager.start_conversation(owner="tab-a", options=StartOptions())
    cid = conversation.conversation_id

    for owner in ("tab-b", "", "tab-a "):
        with pytest.raises(NotAllowedError, match="No conversation with this id"):
            manager.session_for(cid, owner=owner)
        with pytest.raises(NotAllowedError):
            await manager.check_owner(cid, owner=owner)
    with pytest.raises(NotAllowedError):
        manager.session_for("c-unknown", owner="tab-a")
    with pytest.raises(NotAllowedError):
        await manager.end_conversation(cid, owner="tab-b")
    assert await manager.live_conversations(owner="tab-b") == []
    assert manager.session_for(cid, owner="tab-a").status == "live"
    response = await mounted_sandbox.api.get(f"/v2/conversations/{cid}")
    assert response.json()["status"] == "active"


async def test_ownership_is_remembered_in_the_store_across_a_restart(
    manager: SessionManager,
) -> None:
    conversation = await manager.start_conversation(owner="tab-a", options=StartOptions())
    restarted = SessionManager(manager.settings)
    await restarted.check_owner(conversation.conversation_id, owner="tab-a")
    with pytest.raises(NotAllowedError):
        await restarted.check_owner(conversation.conversation_id, owner="tab-b")


async def test_ending_a_conversation_ends_it_for_everyone_and_records_why(
    manager: SessionManager, mounted_sandbox: LiveSandbox, engine: Engine
) -> None:
    conversation = await manager.start_conversation(owner="tab-a", options=StartOptions())
    cid = conversation.conversation_id
    session = manager.session_for(cid, owner="tab-a")

    await manager.end_conversation(cid, owner="tab-a")

    assert session.ended and session.end_reason == "end_conversation_endpoint_hit"
    with pytest.raises(SessionError, match="not live"):
        manager.session_for(cid, owner="tab-a")
    assert await manager.live_conversations(owner="tab-a") == []
    assert manager.live_session(cid) is None and manager.join_url(cid) == ""
    response = await mounted_sandbox.api.get(f"/v2/conversations/{cid}")
    assert response.json()["status"] == "ended"
    row = stored(engine, cid)
    assert row is not None
    assert (row.status, row.shutdown_reason) == ("ended", "end_conversation_endpoint_hit")


async def test_a_start_the_api_refuses_is_reported_and_nothing_is_recorded(
    manager: SessionManager, engine: Engine
) -> None:
    with pytest.raises(TavusError) as refused:
        await manager.start_conversation(
            owner="tab-a", options=StartOptions(persona_id="p-no-such-persona")
        )
    assert isinstance(refused.value, TavusAPIError)
    assert refused.value.message in describe_error(refused.value)
    with session_scope(engine) as s:
        assert list(s.exec(select(Conversation))) == []
    assert await manager.live_conversations(owner="tab-a") == []


async def test_the_catalog_lists_the_sandbox_personas_and_replicas(
    manager: SessionManager,
) -> None:
    personas, replicas = await manager.catalog()
    assert "Support Agent" in {p.persona_name for p in personas}
    assert {"Anna", "Nathan", "Lucy"} <= {r.replica_name for r in replicas}


def test_unexpected_errors_are_described_without_their_details() -> None:
    assert describe_error(SessionError("This conversation has ended.")) == (
        "This conversation has ended."
    )
    assert describe_error(KeyError("secret internals")) == "Unexpected error: KeyError"


async def test_a_page_started_conversation_asks_for_greenscreen_and_no_recording_in_the_sandbox(
    manager: SessionManager, mounted_sandbox: LiveSandbox
) -> None:
    options = StartOptions(language="german", captions=True, transparent=True, record=True)
    conversation = await manager.start_conversation(owner="tab-a", options=options)
    asked = mounted_sandbox.parts.registry.get_conversation(conversation.conversation_id)
    assert asked.properties.apply_greenscreen
    assert asked.properties.enable_closed_captions
    assert asked.properties.language == "german"
    # The sandbox records nothing: the page's "record" is for Tavus.
    assert not asked.properties.enable_recording
    await manager.end_conversation(conversation.conversation_id, owner="tab-a")


async def test_a_recorded_start_in_tavus_mode_asks_tavus_to_record_where_the_settings_say(
    mounted_sandbox: LiveSandbox, app_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sandbox stands in for Tavus; Daily cannot be reached here, so the join fails and
    the conversation is ended again: what the API was asked is what is checked."""
    storage = '{"provider": "s3", "bucket_name": "calls", "bucket_region": "eu-west-1"}'
    settings = Settings(  # type: ignore[call-arg]
        TAVUS_API_KEY=SANDBOX_KEY,
        TAVUS_API_BASE=f"{mounted_sandbox.root_url}/sandbox/v2",
        CVI_PUBLIC_URL=mounted_sandbox.root_url,
        TAVUS_RECORDING_STORAGE=storage,
    )
    assert settings.mode == "tavus"
    manager = SessionManager(settings, join_timeout=2)
    try:
        with pytest.raises(Exception):  # noqa: B017 - whatever the failed join raises
            await manager.start_conversation(
                owner="tab-a", options=StartOptions(record=True, name="Recorded")
            )
    finally:
        await manager.aclose()
    [asked], _ = mounted_sandbox.parts.registry.list_conversations()
    assert asked.conversation_name == "Recorded"
    assert asked.properties.enable_recording
    assert asked.properties.recording_storage is not None
    assert asked.properties.recording_storage.model_dump(exclude_none=True) == {
        "provider": "s3",
        "bucket_name": "calls",
        "bucket_region": "eu-west-1",
    }
    assert asked.status == "ended"


def test_a_malformed_recording_storage_setting_is_refused_in_a_sentence() -> None:
    with pytest.raises(ValueError, match="must be JSON like"):
        Settings(TAVUS_RECORDING_STORAGE='{"provider": "floppy"}')  # type: ignore[call-arg]
