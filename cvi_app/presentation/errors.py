"""`describe_error`: what a person is told when a start, send or end fails.

Every message is one plain sentence that names the problem and, where there is one, what to do
next. Unexpected errors are named by type only: their text may hold internals.
"""

from __future__ import annotations

from cvi_app.access.caller import Caller, Permission
from cvi_app.access.start_limits import StartLimited
from cvi_app.live.errors import SessionError
from cvi_app.presentation.text import sentence
from cvi_app.protocol import MessageTooLarge, ProtocolError
from cvi_app.tavus import TavusError
from cvi_app.tavus.errors import (
    TavusAPIError,
    TavusAuthError,
    TavusConcurrencyLimitError,
    TavusNotFoundError,
    TavusRateLimitError,
    TavusServerError,
    TavusTimeoutError,
    TavusTransportError,
    TavusValidationError,
)
from cvi_app.transport import TransportError
from cvi_app.uploads.wav import AudioError

__all__ = ["describe_error", "describe_protocol_error", "describe_tavus_error", "refusal_sentence"]

_ROLE_CAN = {
    "viewer": "Viewers can read the history and insights but not start or steer conversations",
    "operator": "Operators can start, watch and steer conversations but not manage accounts",
}


def refusal_sentence(caller: Caller, permission: Permission) -> str:
    """Why `caller` may not do what `permission` covers, and what to do about it."""
    if caller.needs_sign_in:
        return "Sign in first."
    role = caller.signed_in.role if caller.signed_in else ""
    if role in _ROLE_CAN:
        return f"{_ROLE_CAN[role]}; ask an admin if you need more."
    return "You may not do that here."


def describe_error(exc: BaseException) -> str:
    """A message for a person, from any error a start or send can raise.

    Args:
        exc: The error.

    Returns:
        One sentence naming the problem.
    """
    if isinstance(exc, TavusError):
        return describe_tavus_error(exc)
    if isinstance(exc, TransportError):
        return sentence(f"Could not connect to the conversation's room: {exc}")
    if isinstance(exc, ProtocolError):
        return describe_protocol_error(exc)
    if isinstance(exc, SessionError | AudioError | StartLimited):
        return str(exc)
    return f"Unexpected error: {type(exc).__name__}"


# What a blank field of a send means to the person who left it blank.
_BLANK_FIELDS = {
    "text": "Write a message first.",
    "context": "Write the context first.",
    "output": "Write the tool's result first.",
    "tool_call_id": "Choose the tool call to answer first.",
}


def describe_protocol_error(exc: ProtocolError) -> str:
    """A message for a person from a send the protocol refused (the detail stays in the log).

    Args:
        exc: The error the protocol layer raised.

    Returns:
        One sentence saying what to change.
    """
    if isinstance(exc, MessageTooLarge):
        return (
            "This is too long to send in one message (the limit is about 4,000 characters). "
            "Shorten it, or use Echo, which splits long text."
        )
    reason = exc.reason
    leaf = (exc.field or "").rsplit(".", 1)[-1]
    if leaf in _BLANK_FIELDS and ("white space" in reason or "at least" in reason):
        return _BLANK_FIELDS[leaf]
    where = f" ({exc.field})" if exc.field else ""
    return sentence(f"That is not a message the replica accepts{where}: {reason}")


def describe_tavus_error(exc: TavusError) -> str:
    """A message for a person from a Tavus API error, saying what went wrong and what to do.

    Args:
        exc: Any error the Tavus client raised.

    Returns:
        One sentence; it carries the API's own explanation, never the API key.
    """
    if isinstance(exc, TavusAuthError):
        return sentence(
            f"The Tavus API did not accept the API key ({_api_says(exc)}); "
            "check the key the app is configured with"
        )
    if isinstance(exc, TavusConcurrencyLimitError):
        return sentence(
            "The Tavus account is already running its maximum number of concurrent "
            f"conversations ({_api_says(exc)}); end one and try again"
        )
    if isinstance(exc, TavusRateLimitError):
        wait = (
            f"try again in {exc.retry_after:g} s"
            if exc.retry_after is not None
            else "try again in a moment"
        )
        return sentence(f"The Tavus API is limiting how often it may be called; {wait}")
    if isinstance(exc, TavusServerError):
        return sentence(
            f"The Tavus API failed on its side ({_api_says(exc)}); try again in a moment"
        )
    if isinstance(exc, TavusValidationError):
        return sentence(f"The Tavus API refused the request: {exc.message}")
    if isinstance(exc, TavusNotFoundError):
        return sentence(f"The Tavus API does not know it: {exc.message}")
    if isinstance(exc, TavusAPIError):
        return sentence(f"The Tavus API answered with an error ({_api_says(exc)})")
    if isinstance(exc, TavusTimeoutError):
        return sentence(f"The Tavus API did not answer in time ({exc}); try again")
    if isinstance(exc, TavusTransportError):
        return sentence(f"Could not reach the Tavus API ({exc}); check the connection")
    return sentence(f"The Tavus API gave an answer the app cannot use: {exc}")


def _api_says(exc: TavusAPIError) -> str:
    return f"HTTP {exc.status_code}: {exc.message.rstrip('.')}"
