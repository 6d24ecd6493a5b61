"""DailyTransport in a joined call: a thin fake CallClient at daily-python's boundary.

The real SDK runs here (test_daily_real.py tests init, refused and unreachable joins, leave
and release with real `CallClient`s), but no real join can succeed offline. What needs a joined
call stays on this fake, which stands in for `CallClient` only: app-messages crossing from
Daily's threads to the loop, participants, the replica trust check, sends and their errors,
the call ending under us, leaving a joined call, and Daily's network states. The fake calls
the handler methods of the transport's real `EventHandler` subclass, each from a thread of its
own as daily-python does, with the payloads daily-python documents.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest

from cvi_app.live.bus import EventBus, Subscription
from cvi_app.live.session import ConversationSession
from cvi_app.live.updates import LiveUpdate, Notice, StatusChanged
from cvi_app.protocol import respond
from cvi_app.transport import (
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

    def network(self, kind: str, event: str) -> None:
        """Daily's `NetworkConnectionStatus`: `{"type": ..., "event": ...}`."""
        status = {"type": kind, "event": event}
        self._on_thread(lambda: self.handler.on_network_connection_status_updated(status))

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
        self.reconnecting: list[str] = []
        self.reconnected: list[Participant] = []

        @self.transport.on_reconnecting
        async def on_reconnecting(reason: str) -> None:
            self.reconnecting.append(reason)

        @self.transport.on_reconnected
        async def on_reconnected(participant: Participant) -> None:
            self.reconnected.append(participant)

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


async def test_an_interaction_reaches_daily_as_its_message(joined: Harness) -> None:
    interaction = respond("c123", "What time is it?")
    await joined.transport.send(interaction, to="p-replica")
    assert joined.client.sent == [(interaction.to_message(), "p-replica")]


async def test_send_raises_a_plain_error_when_daily_reports_one(
    caplog: pytest.LogCaptureFixture,
) -> None:
    harness = Harness(send_error="AppMessage(Signalling(ChannelNotOpen))")
    await harness.transport.join()
    with (
        caplog.at_level(logging.WARNING, logger="cvi_app.transport.daily"),
        pytest.raises(SendError) as refused,
    ):
        await harness.transport.send({"event_type": "conversation.interrupt"}, to="p-gone")
    assert str(refused.value) == "the video call service did not deliver the message"
    assert "ChannelNotOpen" in caplog.text  # Daily's own words are for the log
    await harness.transport.leave()


async def test_oversized_message_is_refused_before_reaching_daily(joined: Harness) -> None:
    with pytest.raises(MessageTooLargeError, match="4096"):
        await joined.transport.send({"text": "x" * 5000})
    assert joined.client.sent == []


async def test_call_ending_reports_closed_and_releases_off_the_loop(joined: Harness) -> None:
    joined.client.end_call(error="meeting has ended")
    await wait_for(lambda: joined.closed != [] and joined.client.release_threads != [])
    assert joined.closed == ["the video call service ended the call after an error"]
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


# ---- Daily's network and call states, through to what the session tells the tabs ----------


@dataclass
class SessionOverDaily:
    """A live ConversationSession over a DailyTransport, and what it published for the tabs."""

    harness: Harness
    session: ConversationSession
    subscription: Subscription[LiveUpdate]
    _seen: list[LiveUpdate] = field(default_factory=list)

    def notices(self) -> list[tuple[str, bool]]:
        """The connection notices published so far, as (text, active)."""
        self._seen.extend(self.subscription.drain())
        return [(u.text, u.active) for u in self._seen if isinstance(u, Notice)]

    def ended(self) -> list[str | None]:
        """The reasons of the `ended` statuses published so far."""
        self._seen.extend(self.subscription.drain())
        return [
            u.reason for u in self._seen if isinstance(u, StatusChanged) and u.status == "ended"
        ]


@pytest.fixture
async def live() -> AsyncIterator[SessionOverDaily]:
    harness = Harness()
    bus: EventBus[LiveUpdate] = EventBus()
    subscription = bus.subscribe("c123")
    session = ConversationSession("c123", harness.transport, bus=bus)
    await session.start()
    yield SessionOverDaily(harness, session, subscription)
    await session.close("test over")
    subscription.close()


LOST = ("The connection to the room was lost; reconnecting…", True)
BACK = ("Reconnected to the room.", False)


async def test_dailys_signalling_dropping_and_returning_become_the_sessions_notices(
    live: SessionOverDaily,
) -> None:
    client = live.harness.client
    client.network("signaling", "interrupted")
    await wait_for(lambda: live.notices() == [LOST], what="the connection-lost notice")
    client.network("signaling", "interrupted")  # Daily may repeat itself while it retries
    client.network("signaling", "connected")
    await wait_for(lambda: live.notices() == [LOST, BACK], what="the reconnected notice")
    assert live.harness.reconnected == [Participant(id="p-local", user_name="cvi-studio")]
    assert not live.session.ended


async def test_media_connections_coming_and_going_are_not_the_rooms_connection(
    live: SessionOverDaily,
) -> None:
    client = live.harness.client
    for kind in ("sfu", "peer-to-peer"):
        client.network(kind, "interrupted")
        client.network(kind, "connected")
    # A signalling event after them proves they have all been handled.
    client.network("signaling", "interrupted")
    await wait_for(lambda: live.notices() == [LOST], what="the connection-lost notice")
    assert live.harness.reconnecting == ["the connection to the video call service was interrupted"]


async def test_the_first_connected_of_a_join_is_not_a_reconnection(
    live: SessionOverDaily,
) -> None:
    live.harness.client.network("signaling", "connected")
    live.harness.client.deliver({"event_type": "x"}, "p-replica")  # handled after it
    await wait_for(lambda: live.harness.messages != [], what="the app-message")
    assert live.notices() == []
    assert live.harness.reconnected == []


async def test_daily_giving_up_on_a_lost_connection_ends_the_session_plainly(
    live: SessionOverDaily,
) -> None:
    live.harness.client.network("signaling", "interrupted")
    live.harness.client.end_call()  # after ~20 s offline Daily leaves the call by itself
    reason = "the connection to the room was lost and could not be restored"
    await wait_for(lambda: live.ended() == [reason], what="the session to end")
    assert live.session.end_reason == reason
    assert live.harness.client.leave_calls == 0
    await wait_for(lambda: len(live.harness.client.release_threads) == 1, what="the release")


async def test_the_call_ending_under_us_ends_the_session_with_a_plain_reason(
    live: SessionOverDaily,
) -> None:
    live.harness.client.end_call()
    await wait_for(lambda: live.ended() == ["the call ended"], what="the session to end")
