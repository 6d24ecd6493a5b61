"""When and how long the client waits before trying a failed request again."""

from __future__ import annotations

import email.utils
from datetime import UTC, datetime

import httpx

from cvi_app.tavus.errors import (
    TavusAPIError,
    TavusRateLimitError,
    TavusServerError,
    TavusTimeoutError,
    TavusTransportError,
)

__all__ = ["IDEMPOTENT_METHODS", "is_retryable", "parse_retry_after"]

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
# Gateway answers: the request most likely never reached the application, so even a POST is safe.
_GATEWAY_STATUSES = frozenset({502, 503, 504})
# Failures that happen before the request is sent: retrying cannot duplicate anything.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` header.

    Args:
        value: The header value: a number of seconds or an HTTP date.
        now: The current time (for HTTP dates); defaults to the system clock.

    Returns:
        Non-negative seconds, or None when the header is absent or unreadable.
    """
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if seconds != seconds:  # NaN
        return None
    return max(0.0, seconds)


def is_retryable(exc: BaseException, *, idempotent: bool, max_retry_after: float) -> bool:
    """Whether a failed attempt may be tried again.

    Retried: 429 (unless the API asks to wait longer than `max_retry_after`), gateway 5xx
    (502/503/504), any 5xx for idempotent requests, and connection failures before the request
    was sent (any connection failure for idempotent requests). Never retried: other 4xx and
    read timeouts (the timeout is the caller's whole budget for an answer).

    Args:
        exc: The error the attempt raised.
        idempotent: Whether repeating the request cannot change the outcome.
        max_retry_after: The longest `Retry-After` the client is willing to sleep through.
    """
    if isinstance(exc, TavusRateLimitError):
        return exc.retry_after is None or exc.retry_after <= max_retry_after
    if isinstance(exc, TavusServerError):
        if exc.retry_after is not None and exc.retry_after > max_retry_after:
            return False
        return idempotent or exc.status_code in _GATEWAY_STATUSES
    if isinstance(exc, TavusAPIError):
        return False
    if isinstance(exc, TavusTimeoutError | TavusTransportError):
        return isinstance(exc.__cause__, _NOT_SENT) or (
            idempotent and isinstance(exc, TavusTransportError)
        )
    return False
