"""`DailyTransport`: a server-side participant in the conversation's Daily room (daily-python).

daily-python runs its own threads. The bridge to asyncio follows three rules:

- `EventHandler` callbacks only enqueue: each hands its arguments to the event loop with
  `loop.call_soon_threadsafe`; a task on the loop drains the queue and does the work.
- SDK completions become asyncio futures, resolved on the loop with `call_soon_threadsafe`.
- `CallClient` is never called from inside a Daily callback (it can deadlock: the SDK holds
  the GIL there). Leaving and releasing happen on a thread of their own that ends with them:
  while a join is under way every `CallClient` call blocks until Daily's own attempt ends
  (about 19 s for an unreachable room), so a join that gives up early releases afterwards.

Daily's network states reach the caller as the transport's callbacks: the signalling
connection (which carries app-messages) dropping is `on_reconnecting`, its coming back
`on_reconnected`, and the call state `left` that we did not ask for is `on_closed`.
Messages meant for a person are plain; Daily's own error text goes to the log.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import threading
from collections.abc import Callable, Mapping
from typing import Any, Protocol, Self

from cvi_app.protocol.errors import ProtocolError
from cvi_app.protocol.interactions import Interaction
from cvi_app.protocol.raw import load_json_object
from cvi_app.transport.base import (
    JoinError,
    NotJoinedError,
    OutgoingMessage,
    Participant,
    RoomTransport,
    SendError,
    TransportParams,
    looks_like_replica,
)

try:
    from daily import CallClient, Daily, EventHandler
except ModuleNotFoundError as exc:  # pragma: no cover - depends on the environment
    raise ModuleNotFoundError(
        f"{exc}. DailyTransport needs daily-python: `pip install daily-python`"
    ) from exc

__all__ = [
    "DEFAULT_JOIN_TIMEOUT",
    "CallClientFactory",
    "CallClientLike",
    "DailyTransport",
    "default_call_client",
    "wait_for_releases",
]

logger = logging.getLogger(__name__)

DEFAULT_JOIN_TIMEOUT = 10.0
"""Seconds a join may take before the person is told (Daily's own bound is about 19 s)."""

# Daily's error strings are Rust debug output; a bounded slice of one is plenty for the log.
_MAX_LOGGED_ERROR = 500
_SIGNALLING = ("signaling", "signalling")

# Camera and microphone stay off: this participant only exchanges app-messages.
CLIENT_SETTINGS: dict[str, Any] = {
    "inputs": {"camera": {"isEnabled": False}, "microphone": {"isEnabled": False}},
    "publishing": {"camera": {"isPublishing": False}, "microphone": {"isPublishing": False}},
}


class CallClientLike(Protocol):
    """The part of daily-python's `CallClient` this transport uses (what a test fake provides)."""

    def set_user_name(self, user_name: str) -> None: ...  # noqa: D102

    def join(  # noqa: D102
        self,
        meeting_url: str,
        meeting_token: str | None = None,
        client_settings: Mapping[str, Any] | None = None,
        completion: Callable[[Mapping[str, Any] | None, str | None], None] | None = None,
    ) -> None: ...

    def leave(self, completion: Callable[[str | None], None] | None = None) -> None: ...  # noqa: D102

    def send_app_message(  # noqa: D102
        self,
        message: Any,
        participant_id: str | None = None,
        serialize_none: bool = True,
        completion: Callable[[str | None], None] | None = None,
    ) -> None: ...

    def participants(self) -> Mapping[str, Any]: ...  # noqa: D102

    def release(self) -> None: ...  # noqa: D102


CallClientFactory = Callable[[EventHandler], CallClientLike]
"""Builds the call client for an event handler; tests pass a fake."""

_daily_init_lock = threading.Lock()
_daily_initialized = False


def default_call_client(event_handler: EventHandler) -> CallClientLike:
    """A real daily-python `CallClient`, after `Daily.init()` (done once per process).

    Args:
        event_handler: Receives the client's events (on Daily's threads).

    Returns:
        The call client.
    """
    global _daily_initialized
    with _daily_init_lock:
        if not _daily_initialized:
            Daily.init()
            _daily_initialized = True
    return CallClient(event_handler=event_handler)


class _DailyEvents(EventHandler):
    """Receives daily-python callbacks on Daily's threads and only enqueues them."""

    def __new__(cls, *args: Any, **kwargs: Any) -> Self:
        # The native EventHandler's __new__ takes no arguments; ours does (in __init__).
        return super().__new__(cls)

    def __init__(self, post: Callable[[str, tuple[Any, ...]], None]) -> None:
        super().__init__()
        self._post = post

    def on_app_message(self, message: Any, sender: str) -> None:
        self._post("app-message", (message, sender))

    def on_participant_joined(self, participant: Mapping[str, Any]) -> None:
        self._post("participant-joined", (participant,))

    def on_participant_left(self, participant: Mapping[str, Any], reason: str) -> None:
        self._post("participant-left", (participant, reason))

    def on_call_state_updated(self, state: str) -> None:
        self._post("call-state", (state,))

    def on_error(self, message: str) -> None:
        self._post("error", (message,))

    def on_network_connection_status_updated(self, status: Mapping[str, Any]) -> None:
        self._post("network", (status,))


def _completion(future: asyncio.Future[tuple[Any, ...]]) -> Callable[..., None]:
    """A completion callback for daily-python that resolves `future` on its loop."""
    loop = future.get_loop()

    def resolve(args: tuple[Any, ...]) -> None:
        if not future.done():
            future.set_result(args)

    def completion(*args: Any) -> None:
        with contextlib.suppress(RuntimeError):  # the loop has closed: nobody is waiting
            loop.call_soon_threadsafe(resolve, args)

    return completion


def _participant(raw: object) -> Participant | None:
    """Read a daily-python participant mapping (`{"id", "info": {"userName", "userId"}}`)."""
    if not isinstance(raw, Mapping):
        return None
    participant_id = raw.get("id")
    info = raw.get("info")
    info = info if isinstance(info, Mapping) else {}
    user_name = info.get("userName")
    user_id = info.get("userId")
    if not isinstance(participant_id, str) or not participant_id:
        return None
    user_name = user_name if isinstance(user_name, str) else ""
    user_id = user_id if isinstance(user_id, str) else None
    return Participant(
        id=participant_id,
        user_name=user_name,
        user_id=user_id,
        is_replica=looks_like_replica(user_id=user_id, user_name=user_name),
    )


class DailyTransport(RoomTransport):
    """A participant (camera and microphone off) in a Daily room, on daily-python."""

    def __init__(
        self,
        params: TransportParams,
        *,
        call_client_factory: CallClientFactory = default_call_client,
        join_timeout: float = DEFAULT_JOIN_TIMEOUT,
        leave_timeout: float = 10.0,
        send_timeout: float = 10.0,
    ) -> None:
        """Prepare to join (nothing connects until `join()`).

        Args:
            params: The room URL (`conversation_url`), meeting token and our user name.
            call_client_factory: Builds the call client; the default is daily-python's.
            join_timeout: Seconds to wait for Daily to complete the join before giving up (the
                client is then left and released once Daily's own attempt ends).
            leave_timeout: Seconds to wait for Daily to complete the leave.
            send_timeout: Seconds to wait for Daily to confirm an app-message.
        """
        super().__init__(params)
        self._factory = call_client_factory
        self._join_timeout = join_timeout
        self._leave_timeout = leave_timeout
        self._send_timeout = send_timeout
        self._client: CallClientLike | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._events: asyncio.Queue[tuple[str, tuple[Any, ...]]] = asyncio.Queue()
        self._pump: asyncio.Task[None] | None = None
        self._leaving: asyncio.Task[None] | None = None
        self._joined = False
        self._reconnecting = False
        self._call_left = False
        self._last_error: str | None = None

    async def join(self) -> Participant:
        """Join the room with the meeting token, camera and microphone off.

        Returns:
            This participant.

        Raises:
            JoinError: Daily refused the join or did not complete it within `join_timeout`;
                the message is a plain clause for a person, Daily's own text is logged.
        """
        if self._client is not None or self._leaving is not None:
            raise JoinError("this transport has already joined; create a new one to rejoin")
        loop = asyncio.get_running_loop()
        self._loop = loop
        self._pump = loop.create_task(self._drain_events(), name="daily-transport-events")
        client = self._factory(_DailyEvents(self._post))
        self._client = client
        client.set_user_name(self.params.user_name)
        future: asyncio.Future[tuple[Any, ...]] = loop.create_future()
        client.join(
            self.params.room_url,
            self.params.meeting_token,
            client_settings=CLIENT_SETTINGS,
            completion=_completion(future),
        )
        try:
            data, error = await asyncio.wait_for(future, self._join_timeout)
        except TimeoutError as exc:
            logger.warning(
                "Daily did not complete the join of %s within %gs; giving up",
                self.params.room_url,
                self._join_timeout,
            )
            # Not awaited: Daily's calls block until its own attempt ends; leave() waits.
            self._begin_shutdown(leave_call=True)
            raise JoinError(
                f"the video call service did not answer within {self._join_timeout:g} s"
            ) from exc
        except asyncio.CancelledError:
            self._begin_shutdown(leave_call=True)
            raise
        if error:
            logger.warning(
                "Daily refused the join of %s: %s",
                self.params.room_url,
                str(error)[:_MAX_LOGGED_ERROR],
            )
            await self._shutdown_now(leave_call=False)
            raise JoinError(_join_failure(str(error)))
        local_id = _local_id(data)
        if local_id is None:
            logger.warning("Daily's join data for %s holds no local participant id", data)
            await self._shutdown_now(leave_call=True)
            raise JoinError("the video call service gave an answer the app cannot use")
        self._set_local(Participant(id=local_id, user_name=self.params.user_name))
        self._joined = True
        for key, raw in client.participants().items():
            participant = _participant(raw)
            if key != "local" and participant is not None:
                self._emit_participant_joined(participant)
        logger.info("joined Daily room %s as %s", self.params.room_url, local_id)
        return self._participants[local_id]

    def is_replica(self, sender_id: str) -> bool:
        """Whether `sender_id` is the replica (asks Daily about senders not seen join yet)."""
        if sender_id not in self._participants and self._client is not None and self._joined:
            participant = _participant(self._client.participants().get(sender_id))
            if participant is not None:
                self._participants[participant.id] = participant
        return super().is_replica(sender_id)

    async def send(self, message: OutgoingMessage, to: str = "*") -> None:
        """Send an app-message to everyone else (`"*"`) or to one participant id.

        Daily takes a dict and encodes it itself: an interaction is given as `to_message()`
        (its size was checked when it was built), a dict as it is, once checked here.

        Raises:
            NotJoinedError: not in the call.
            MessageTooLargeError: over Daily's 4 KB limit.
            SendError: Daily reported an error or did not confirm in time.
        """
        client = self._client
        if client is None or not self._joined or self._loop is None:
            raise NotJoinedError("not in the call: join() first (or the call has ended)")
        self._wire_json(message)
        data = message.to_message() if isinstance(message, Interaction) else message
        future: asyncio.Future[tuple[Any, ...]] = self._loop.create_future()
        client.send_app_message(data, None if to == "*" else to, completion=_completion(future))
        try:
            (error,) = await asyncio.wait_for(future, self._send_timeout)
        except TimeoutError as exc:
            raise SendError(
                f"the video call service did not confirm the message within "
                f"{self._send_timeout:g} s"
            ) from exc
        if error:
            logger.warning(
                "Daily could not send an app-message in %s: %s",
                self.params.room_url,
                str(error)[:_MAX_LOGGED_ERROR],
            )
            raise SendError("the video call service did not deliver the message")

    async def leave(self) -> None:
        """Leave the call and release the client (idempotent, concurrency-safe).

        After a join that gave up waiting, this waits for Daily's own attempt to end.
        """
        self._begin_shutdown(leave_call=True)
        assert self._leaving is not None
        await asyncio.shield(self._leaving)

    def _begin_shutdown(self, *, leave_call: bool) -> None:
        """Start the teardown once; it runs to the end even if nobody awaits it."""
        if self._leaving is None:
            task = asyncio.get_running_loop().create_task(
                self._shutdown(leave_call=leave_call), name="daily-transport-release"
            )
            self._leaving = task
            _teardowns.add(task)
            task.add_done_callback(_teardowns.discard)

    async def _shutdown_now(self, *, leave_call: bool) -> None:
        self._begin_shutdown(leave_call=leave_call)
        assert self._leaving is not None
        await asyncio.shield(self._leaving)

    async def _shutdown(self, *, leave_call: bool) -> None:
        was_joined, self._joined = self._joined, False
        client, self._client = self._client, None
        if client is not None:
            await _on_own_thread(
                functools.partial(
                    _leave_and_release,
                    client,
                    leave=leave_call and not self._call_left,
                    leave_timeout=self._leave_timeout,
                    room_url=self.params.room_url,
                ),
                name="daily-release",
            )
        pump = self._pump
        if pump is not None and pump is not asyncio.current_task():
            pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pump
        if was_joined:
            logger.info("left Daily room %s", self.params.room_url)

    # -- the thread bridge --------------------------------------------------------------------

    def _post(self, kind: str, args: tuple[Any, ...]) -> None:
        """Called on Daily's threads: hand the event to the loop, do nothing else."""
        loop = self._loop
        if loop is None:
            return
        with contextlib.suppress(RuntimeError):  # the loop has closed: the transport is gone
            loop.call_soon_threadsafe(self._events.put_nowait, (kind, args))

    async def _drain_events(self) -> None:
        while True:
            kind, args = await self._events.get()
            try:
                self._handle_event(kind, args)
            except Exception:
                logger.exception("handling a Daily %s event failed", kind)

    def _handle_event(self, kind: str, args: tuple[Any, ...]) -> None:
        if kind == "app-message":
            message, sender = args
            self._on_app_message(message, sender)
        elif kind == "participant-joined":
            participant = _participant(args[0])
            if participant is not None:
                self._emit_participant_joined(participant)
        elif kind == "participant-left":
            participant = _participant(args[0])
            if participant is not None:
                self._emit_participant_left(participant)
        elif kind == "call-state":
            self._on_call_state(args[0])
        elif kind == "network":
            self._on_network_status(args[0])
        elif kind == "error":
            self._last_error = str(args[0])[:_MAX_LOGGED_ERROR]
            logger.warning("Daily error in %s: %s", self.params.room_url, self._last_error)

    def _on_app_message(self, message: object, sender: object) -> None:
        if not isinstance(sender, str):
            logger.warning("dropped a Daily app-message with a non-string sender %r", sender)
            return
        if not isinstance(message, dict):
            try:
                message = load_json_object(message)
            except ProtocolError as exc:
                logger.warning("dropped a Daily app-message from %s: %s", sender, exc)
                return
        assert isinstance(message, dict)
        self._emit_app_message(message, sender)

    def _on_network_status(self, status: object) -> None:
        """`{"type": "signaling" | "sfu" | "peer-to-peer", "event": "interrupted" | "connected"}`.

        Only the signalling connection matters here: it carries the app-messages. Daily
        rejoins by itself while it is down (for about 20 s, then the call state becomes left).
        """
        if not isinstance(status, Mapping):
            return
        kind, event = status.get("type"), status.get("event")
        if kind not in _SIGNALLING:
            logger.info("Daily %s connection in %s: %s", kind, self.params.room_url, event)
            return
        if not self._joined or self._leaving is not None:
            return  # the join itself reports `connected`; so may a leave
        if event == "interrupted" and not self._reconnecting:
            self._reconnecting = True
            self._emit_reconnecting("the connection to the video call service was interrupted")
        elif event == "connected" and self._reconnecting:
            self._reconnecting = False
            self._emit_reconnected()

    def _on_call_state(self, state: object) -> None:
        if state != "left":
            return
        self._call_left = True
        if self._leaving is not None:
            return
        if self._reconnecting:
            reason = "the connection to the room was lost and could not be restored"
        elif self._last_error:
            reason = "the video call service ended the call after an error"
        else:
            reason = "the call ended"
        self._emit_closed(reason)
        # Release the client from a task of its own: never from the Daily callback's work.
        self._begin_shutdown(leave_call=False)


_teardowns: set[asyncio.Task[None]] = set()
"""Teardowns under way (a join that gave up waiting is released once Daily's attempt ends)."""


async def wait_for_releases() -> None:
    """Wait until every call client this event loop's transports made has been released.

    Useful at shutdown: a join that gave up waiting releases its client only when Daily's own
    attempt ends (about 19 s for an unreachable room).
    """
    loop = asyncio.get_running_loop()
    while pending := [task for task in _teardowns if task.get_loop() is loop]:
        await asyncio.gather(*pending, return_exceptions=True)


async def _on_own_thread(work: Callable[[], None], *, name: str) -> None:
    """Run blocking `work` on a new thread that ends with it (no pool keeps a thread around)."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[None] = loop.create_future()

    def finish() -> None:
        if not done.done():
            done.set_result(None)

    def run() -> None:
        try:
            work()
        except Exception:
            logger.exception("%s failed", name)
        finally:
            with contextlib.suppress(RuntimeError):  # the loop has closed: nobody is waiting
                loop.call_soon_threadsafe(finish)

    threading.Thread(target=run, name=name, daemon=True).start()
    await done


def _leave_and_release(
    client: CallClientLike, *, leave: bool, leave_timeout: float, room_url: str
) -> None:
    """On a thread of its own: leave the call (if asked) and release the client.

    Either call blocks while Daily still works on a join; that is why this is off the loop.
    """
    if leave:
        left = threading.Event()
        errors: list[str | None] = []

        def completion(error: str | None) -> None:
            errors.append(error)
            left.set()

        client.leave(completion=completion)
        if not left.wait(leave_timeout):
            logger.warning("Daily did not confirm leaving %s in time", room_url)
        elif errors and errors[0]:
            logger.warning(
                "Daily reported an error leaving %s: %s", room_url, errors[0][:_MAX_LOGGED_ERROR]
            )
    client.release()


def _join_failure(error: str) -> str:
    """A plain clause for a person from Daily's join error (Rust debug text)."""
    if "InvalidUrl" in error or "parse url" in error:
        return "the room address is not one the video call service accepts"
    if "Connection(" in error or "connect" in error.lower():
        return "the video call service could not be reached"
    lowered = error.lower()
    if any(word in lowered for word in ("token", "access", "permission", "not allowed", "eject")):
        return "the video call service did not let the app into the room"
    return "the video call service refused the join"


def _local_id(data: object) -> str | None:
    if not isinstance(data, Mapping):
        return None
    participants = data.get("participants")
    local = participants.get("local") if isinstance(participants, Mapping) else None
    local_id = local.get("id") if isinstance(local, Mapping) else None
    return local_id if isinstance(local_id, str) and local_id else None
