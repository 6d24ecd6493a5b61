"""Room transports: this app's participant in a conversation's room, Daily or sandbox.

`create_transport(mode, params)` picks the implementation; both expose the `RoomTransport`
interface from `base`. `DailyTransport` is imported on first use, so sandbox mode works
without daily-python installed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from cvi_app.transport.base import (
    REPLICA_MARKER,
    AppMessageHandler,
    ClosedHandler,
    JoinError,
    MessageTooLargeError,
    NotJoinedError,
    OutgoingMessage,
    Participant,
    ParticipantHandler,
    ReconnectedHandler,
    ReconnectingHandler,
    RoomTransport,
    SendError,
    TransportError,
    TransportParams,
    looks_like_replica,
)
from cvi_app.transport.local import LocalTransport, room_socket_url

if TYPE_CHECKING:
    from cvi_app.transport.daily import DailyTransport

__all__ = [
    "REPLICA_MARKER",
    "AppMessageHandler",
    "ClosedHandler",
    "DailyTransport",
    "JoinError",
    "LocalTransport",
    "MessageTooLargeError",
    "NotJoinedError",
    "OutgoingMessage",
    "Participant",
    "ParticipantHandler",
    "ReconnectedHandler",
    "ReconnectingHandler",
    "RoomTransport",
    "SendError",
    "TransportError",
    "TransportParams",
    "create_transport",
    "looks_like_replica",
    "room_socket_url",
]


def create_transport(
    mode: Literal["sandbox", "tavus"],
    params: TransportParams,
    *,
    join_timeout: float | None = None,
) -> RoomTransport:
    """The transport for a conversation's room in the app's mode.

    Args:
        mode: `sandbox` (the local room over WebSocket) or `tavus` (the Daily room).
        params: Room URL, meeting token and user name.
        join_timeout: Seconds a join may take (None: the transport's default).

    Returns:
        A transport, not yet joined.

    Raises:
        ValueError: `mode` is neither.
        ModuleNotFoundError: `tavus` mode without daily-python installed (with an install hint).
    """
    if mode == "sandbox":
        if join_timeout is None:
            return LocalTransport(params)
        return LocalTransport(params, join_timeout=join_timeout)
    if mode == "tavus":
        from cvi_app.transport.daily import DEFAULT_JOIN_TIMEOUT, DailyTransport

        return DailyTransport(params, join_timeout=join_timeout or DEFAULT_JOIN_TIMEOUT)
    raise ValueError(f"unknown mode {mode!r}: expected 'sandbox' or 'tavus'")


def __getattr__(name: str) -> Any:
    if name == "DailyTransport":
        from cvi_app.transport.daily import DailyTransport

        return DailyTransport
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
