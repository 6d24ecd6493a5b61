"""Which failures are retried, and how long Retry-After says to wait."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from cvi_app.tavus.errors import (
    TavusAuthError,
    TavusRateLimitError,
    TavusServerError,
    TavusTimeoutError,
    TavusTransportError,
    TavusValidationError,
)
from cvi_app.tavus.retry import is_retryable, parse_retry_after

NOW = datetime(2025, 1, 1, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("3", 3.0),
        ("0.5", 0.5),
        ("-4", 0.0),
        ("Wed, 01 Jan 2025 12:00:30 GMT", 30.0),
        ("Wed, 01 Jan 2025 11:59:00 GMT", 0.0),
        ("soon", None),
        ("nan", None),
        ("", None),
        (None, None),
    ],
)
def test_retry_after_accepts_seconds_and_http_dates(
    value: str | None, seconds: float | None
) -> None:
    assert parse_retry_after(value, now=NOW) == seconds


def _caused(error: Exception, cause: Exception) -> Exception:
    error.__cause__ = cause
    return error


REQUEST = httpx.Request("GET", "http://127.0.0.1/")


@pytest.mark.parametrize(
    ("error", "idempotent", "retried"),
    [
        (TavusRateLimitError(429, "slow", retry_after=1.0), False, True),
        (TavusRateLimitError(429, "slow", retry_after=600.0), True, False),
        (TavusRateLimitError(429, "slow"), False, True),
        (TavusServerError(500, "boom"), True, True),
        (TavusServerError(500, "boom"), False, False),
        (TavusServerError(503, "busy"), False, True),
        (TavusValidationError(400, "bad"), True, False),
        (TavusAuthError(401, "no"), True, False),
        (
            _caused(TavusTransportError("x"), httpx.ConnectError("refused", request=REQUEST)),
            False,
            True,
        ),
        (
            _caused(TavusTransportError("x"), httpx.RemoteProtocolError("eof", request=REQUEST)),
            True,
            True,
        ),
        (
            _caused(TavusTransportError("x"), httpx.RemoteProtocolError("eof", request=REQUEST)),
            False,
            False,
        ),
        (_caused(TavusTimeoutError("x"), httpx.ConnectTimeout("t", request=REQUEST)), False, True),
        (_caused(TavusTimeoutError("x"), httpx.ReadTimeout("t", request=REQUEST)), True, False),
        (ValueError("not ours"), True, False),
    ],
)
def test_only_transient_failures_are_retried(
    error: Exception, idempotent: bool, retried: bool
) -> None:
    assert is_retryable(error, idempotent=idempotent, max_retry_after=60.0) is retried
