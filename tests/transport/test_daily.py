"""DailyTransport against a thin fake CallClient at daily-python's boundary.

Daily's network is unreachable here, so the fake stands in for `CallClient` only: every event
and completion it produces arrives on a thread of its own, as daily-python's do.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

import pytest

from cvi_app.transport import (
    JoinError,
    MessageTooLargeError,
    NotJoinedError,
    Participant,
    SendError,
    TransportParams,
    create_transport,
)
from cvi_app.transport.daily import DailyTransport
from tests.support.servers import wait_for

REPLICA = {"id": "p-replica", "info": {"userName": "Anna", "userId": "tavus-replica-r123"}}
HUMAN = {"id": "p-human", "info": {"userName": "Sam", "userId": "u-42"}}
PARAMS = TransportParams(room_url="https://tavus.daily.co/c123", meeting_token="tok")


class FakeCallClient:
    """daily-python's CallClient, minus the network: callbacks come from other OS threads."""

    def __init__(
        self,
        handler: Any,
        *,
        join_error: str | None = None,
        send_error: str | None = None,
        remote: tuple[Mapping[str, Any], ...] = (REPLICA, HUMAN),
    ) -> None:
        self.handler = handler
        self.join_error = join_error
        self.send_error = send_error
        self.remote = list(remote)
        self.user_name: str | None = None
        self.joined_with: dict[str, Any] = {}
        self.sent: list[tuple[Any, str | None]] = []
        self.leave_calls = 0
        self.release_threads: list[int] = []
        self.callback_threads: set[int] = set()
        self._threads: list[threading.Thread] = []

    # -- the CallClient surface ---------------------------------------------------------------

    def set_user_name(self, user_name: str) -> None:
        self.user_name = user_name

    def join(
        self,
        meeting_url: str,
        meeting_token: str | None = None,
        client_settings: Mapping[str, Any] | None = None,
        completion: Callable[..., None] | None = None,
    ) -> None:
        self.joined_with = {"url": meeting_url, "token": meeting_token, "settings": client_settings}

        def run() -> None:
            assert completion is not None
            if self.join_error:
                completion(None, self.join_error)
                return
            self.handler.on_call_state_updated("joined")
            completion({"participants": {"local": {"id": "p-local"}}}, None)

        self._on_thread(run)

    def leave(self, completion: Callable[[str | None], None] | None = None) -> None:
        self.leave_calls += 1

        def run() -> None:
            self.handler.on_call_state_updated("left")
            if completion:
                completion(None)

        self._on_thread(run)

    def send_app_message(
        self,
        message: Any,
        participant_id: str | None = None,
        serialize_none: bool = True,
        completion: Callable[[str | None], None] | None = None,
    ) -> None:
        self.sent.append((message, participant_id))
        if completion:
            self._on_thread(lambda: completion(self.send_error))

    def participants(self) -> Mapping[str, Any]:
        local = {"id": "p-local", "info": {"userName": self.user_name, "isLocal": True}}
        return {"local": local, **{p["id"]: p for p in self.remote}}

    def release(self) -> None:
        self.release_threads.append(threading.get_ident())

    # -- what the room does -------------------------------------------------------------------

    def deliver(self, message: Any, sender: str) -> None:
        self._on_thread(lambda: self.handler.on_app_message(message, sender))

    def participant_joins(self, participant: Mapping[str, Any]) -> None:
        self.remote.append(participant)
        self._on_thread(lambda: self.handler.on_participant_joined(participant))

    def participant_leaves(self, participant: Mapping[str, Any]) -> None:
        self.remote.remove(participant)
        self._on_thread(lambda: self.handler.on_participant_left(participant, "leftCall"))

    def end_call(self, error: str | None = None) -> None:
        def run() -> None:
            if error:
                self.handler.on_error(error)
            self.handler.on_call_state_updated("left")

        self._on_thread(run)

    def _on_thread(self, fn: Callable[[], None]) -> None:
        def run() -> None:
            self.callback_threads.add(threading.get_ident())
            fn()

        thread = threading.Thread(target=run, daemon=True)
        self._threads.append(thread)
        thread.start()


class Harness:
    """A DailyTransport built on the fake, and what its handlers saw (and on which thread)."""

    def __init__(self, **fake_options: Any) -> None:
        self.fake: FakeCallClient | None = None
        self.messages: list[tuple[dict[str, Any], str]] = []
        self.handler_threads: set[int] = set()
        self.joined: list[Participant] = []
        self.left: list[Participant] = []
        self.closed: list[str] = []

        def factory(handler: Any) -> FakeCallClient:
            self.fake = FakeCallClient(handler, **fake_options)
            return self.fake

        self.transport = DailyTransport(PARAMS, call_client_factory=factory)

        @self.transport.on_app_message
        async def on_message(data: dict[str, Any], sender: str) -> None:
            self.handler_threads.add(threading.get_ident())
            self.messages.append((data, sender))

        @self.transport.on_participant_joined
        async def on_joined(participant: Participant) -> None:
            self.joined.append(participant)

        @self.transport.on_participant_left
        async def on_left(participant: Participant) -> None:
            self.left.append(participant)

        @self.transport.on_closed
        async def on_closed(reason: str) -> None:
            self.closed.append(reason)

    @property
    def client(self) -> FakeCallClient:
        assert self.fake is not None
        return self.fake


@pytest.fixture
async def joined() -> AsyncIterator[Harness]:
    harness = Harness()
    await harness.transport.join()
    yield harness
    await harness.transport.leave()


async def test_join_uses_token_and_turns_camera_and_microphone_off() -> None:
    harness = Harness()
    me = await harness.transport.join()
    assert me == Participant(id="p-local", user_name="cvi-studio")
    assert harness.client.user_name == "cvi-studio"
    assert harness.client.joined_with["url"] == "https://tavus.daily.co/c123"
    assert harness.client.joined_with["token"] == "tok"
    inputs = harness.client.joined_with["settings"]["inputs"]
    assert inputs["camera"]["isEnabled"] is False
    assert inputs["microphone"]["isEnabled"] is False
    await harness.transport.leave()


async def test_participants_in_the_room_at_join_are_reported(joined: Harness) -> None:
    await wait_for(lambda: len(joined.joined) == 2)
    assert {p.id for p in joined.joined} == {"p-replica", "p-human"}
    assert set(joined.transport.participants()) == {"p-local", "p-replica", "p-human"}


async def test_daily_thread_callbacks_run_handlers_on_the_event_loop_thread(
    joined: Harness,
) -> None:
    loop_thread = threading.get_ident()
    joined.client.deliver({"event_type": "conversation.utterance"}, "p-replica")
    await wait_for(lambda: len(joined.messages) == 1)
    assert joined.messages == [({"event_type": "conversation.utterance"}, "p-replica")]
    assert loop_thread not in joined.client.callback_threads
    assert joined.handler_threads == {loop_thread}


async def test_only_the_replica_is_trusted_to_speak_for_tavus(joined: Harness) -> None:
    joined.client.deliver({"event_type": "conversation.utterance"}, "p-human")
    joined.client.deliver({"event_type": "conversation.utterance"}, "p-replica")
    await wait_for(lambda: len(joined.messages) == 2)
    trusted = {sender: joined.transport.is_replica(sender) for _, sender in joined.messages}
    assert trusted == {"p-human": False, "p-replica": True}
    assert joined.transport.is_replica("p-nobody") is False
    assert joined.transport.is_replica("p-local") is False


async def test_a_replica_not_yet_announced_is_recognised_from_the_call_client(
    joined: Harness,
) -> None:
    late = {"id": "p-late", "info": {"userName": "tavus-replica", "userId": "tavus-replica-9"}}
    joined.client.remote.append(late)  # Daily knows it; its joined event has not arrived yet
    assert joined.transport.is_replica("p-late") is True


async def test_participants_joining_and_leaving_are_reported(joined: Harness) -> None:
    newcomer = {"id": "p-new", "info": {"userName": "Kim", "userId": "u-7"}}
    joined.client.participant_joins(newcomer)
    await wait_for(lambda: any(p.id == "p-new" for p in joined.joined))
    joined.client.participant_leaves(newcomer)
    await wait_for(lambda: [p.id for p in joined.left] == ["p-new"])
    assert "p-new" not in joined.transport.participants()


async def test_app_messages_that_are_not_json_objects_are_dropped(joined: Harness) -> None:
    joined.client.deliver("not json", "p-replica")
    joined.client.deliver([1, 2], "p-replica")
    joined.client.deliver(json.dumps({"event_type": "x"}), "p-replica")
    await wait_for(lambda: len(joined.messages) == 1)
    assert joined.messages == [({"event_type": "x"}, "p-replica")]


async def test_send_waits_for_daily_to_confirm(joined: Harness) -> None:
    await joined.transport.send({"event_type": "conversation.interrupt"})
    await joined.transport.send({"event_type": "conversation.respond"}, to="p-replica")
    assert joined.client.sent == [
        ({"event_type": "conversation.interrupt"}, None),
        ({"event_type": "conversation.respond"}, "p-replica"),
    ]


async def test_send_raises_when_daily_reports_an_error() -> None:
    harness = Harness(send_error="participant not found")
    await harness.transport.join()
    with pytest.raises(SendError, match="participant not found"):
        await harness.transport.send({"event_type": "conversation.interrupt"}, to="p-gone")
    await harness.transport.leave()


async def test_oversized_message_is_refused_before_reaching_daily(joined: Harness) -> None:
    with pytest.raises(MessageTooLargeError, match="4096"):
        await joined.transport.send({"text": "x" * 5000})
    assert joined.client.sent == []


async def test_refused_join_raises_and_releases_the_client() -> None:
    harness = Harness(join_error="meeting token is invalid")
    with pytest.raises(JoinError, match="meeting token is invalid"):
        await harness.transport.join()
    assert len(harness.client.release_threads) == 1
    with pytest.raises(NotJoinedError):
        await harness.transport.send({"event_type": "conversation.interrupt"})


async def test_call_ending_reports_closed_and_releases_off_the_loop(joined: Harness) -> None:
    joined.client.end_call(error="meeting has ended")
    await wait_for(lambda: joined.closed != [] and joined.client.release_threads != [])
    assert joined.closed == ["call ended: meeting has ended"]
    assert threading.get_ident() not in joined.client.release_threads
    assert joined.client.leave_calls == 0
    with pytest.raises(NotJoinedError):
        await joined.transport.send({"event_type": "conversation.interrupt"})


async def test_leave_is_safe_twice_and_does_not_report_closed() -> None:
    harness = Harness()
    await harness.transport.join()
    await asyncio.gather(harness.transport.leave(), harness.transport.leave())
    await harness.transport.leave()
    assert harness.client.leave_calls == 1
    assert len(harness.client.release_threads) == 1
    assert threading.get_ident() not in harness.client.release_threads
    assert harness.closed == []


async def test_a_failing_handler_is_logged_and_others_still_run(
    joined: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    @joined.transport.on_app_message
    async def broken(data: dict[str, Any], sender: str) -> None:
        raise RuntimeError("handler bug")

    with caplog.at_level(logging.ERROR, logger="cvi_app.transport.base"):
        joined.client.deliver({"event_type": "a"}, "p-replica")
        joined.client.deliver({"event_type": "b"}, "p-replica")
        await wait_for(lambda: len(joined.messages) == 2)
        await joined.transport.wait_handlers()
    failures = [r for r in caplog.records if "handler" in r.getMessage() and r.exc_info]
    assert len(failures) == 2
    assert "app-message from p-replica" in failures[0].getMessage()


def test_create_transport_picks_daily_for_tavus_mode() -> None:
    assert isinstance(create_transport("tavus", PARAMS), DailyTransport)
