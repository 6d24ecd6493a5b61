"""What a live conversation refuses; each message is meant for the person who tried."""

from __future__ import annotations

__all__ = ["NOT_OPEN_HERE", "NotAllowedError", "SendRateLimited", "SessionEnded", "SessionError"]


class SessionError(RuntimeError):
    """A send the session refuses; the message is meant for the person who tried it."""


class SessionEnded(SessionError):
    """The conversation is over: nothing more can be sent."""


class SendRateLimited(SessionError):
    """Too many sends in a short time."""


NOT_OPEN_HERE = (
    "No conversation with this id is open to this browser. "
    "A conversation belongs to the browser that started it."
)
"""What a browser is told about a conversation it may not see. An unknown id and another
browser's id read the same, so a stranger cannot tell which ids exist."""


class NotAllowedError(SessionError):
    """The browser asking may not read or control that conversation (or it does not exist)."""

    def __init__(self, message: str = NOT_OPEN_HERE) -> None:
        super().__init__(message)
