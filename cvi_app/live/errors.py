"""What a live conversation refuses; each message is meant for the person who tried."""

from __future__ import annotations

__all__ = ["NotAllowedError", "SendRateLimited", "SessionEnded", "SessionError"]


class SessionError(RuntimeError):
    """A send the session refuses; the message is meant for the person who tried it."""


class SessionEnded(SessionError):
    """The conversation is over: nothing more can be sent."""


class SendRateLimited(SessionError):
    """Too many sends in a short time."""


class NotAllowedError(SessionError):
    """The browser asking may not read or control that conversation."""
