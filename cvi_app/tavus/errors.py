"""Every error the Tavus client raises, in one tree.

```
TavusError
├── TavusTransportError        the request could not be sent or answered (connection)
├── TavusTimeoutError          no answer within the client's timeout
└── TavusAPIError              the API answered with an error status
    ├── TavusAuthError             401 / 403
    ├── TavusNotFoundError         404
    ├── TavusValidationError       400 / 422: the request was refused as invalid
    ├── TavusConcurrencyLimitError 400 saying "maximum concurrent conversations"
    ├── TavusRateLimitError        429 (`retry_after` in seconds when the API said)
    └── TavusServerError           5xx
```

Messages carry the API's own text (its `error` or `message` key) and never the API key.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "TavusAPIError",
    "TavusAuthError",
    "TavusConcurrencyLimitError",
    "TavusError",
    "TavusNotFoundError",
    "TavusRateLimitError",
    "TavusServerError",
    "TavusTimeoutError",
    "TavusTransportError",
    "TavusValidationError",
    "api_error_message",
    "error_from_response",
]

CONCURRENCY_LIMIT_TEXT = "maximum concurrent conversations"
_MAX_TEXT = 300


class TavusError(Exception):
    """Base of every error raised by the Tavus client."""


class TavusTransportError(TavusError):
    """The request could not reach the API or the connection broke before an answer."""


class TavusTimeoutError(TavusError):
    """The API did not answer within the client's timeout."""


class TavusAPIError(TavusError):
    """The API answered with an error status.

    Attributes:
        status_code: The HTTP status of the answer.
        message: The API's own explanation (its `error` or `message` key, else the body text).
        body: The parsed JSON body, or the raw text when it was not JSON.
        method: The HTTP method of the request.
        path: The URL path of the request (no query string, no credentials).
        retry_after: Seconds the API asked to wait before retrying, if it said.
    """

    def __init__(
        self,
        status_code: int,
        message: str,
        body: Any = None,
        *,
        method: str = "",
        path: str = "",
        retry_after: float | None = None,
    ) -> None:
        self.status_code = status_code
        self.message = message
        self.body = body
        self.method = method
        self.path = path
        self.retry_after = retry_after
        where = f" ({method} {path})" if method or path else ""
        super().__init__(f"{status_code}: {message}{where}")


class TavusAuthError(TavusAPIError):
    """401/403: the API key is missing, wrong or not allowed to do this."""


class TavusNotFoundError(TavusAPIError):
    """404: no such conversation, persona or replica (or no such endpoint)."""


class TavusValidationError(TavusAPIError):
    """400/422: the request body or parameters were refused as invalid."""


class TavusConcurrencyLimitError(TavusAPIError):
    """400: the account already runs its maximum number of concurrent conversations."""


class TavusRateLimitError(TavusAPIError):
    """429: too many requests; `retry_after` says how long to wait when the API said."""


class TavusServerError(TavusAPIError):
    """5xx: the API failed on its side."""


def api_error_message(body: Any, *, fallback: str = "") -> str:
    """The human-readable explanation in an error body.

    Args:
        body: A parsed JSON body (any shape) or the raw text of the answer.
        fallback: What to say when the body explains nothing.

    Returns:
        The `error` or `message` value (looked up one level deep too), else the text itself,
        shortened, else `fallback`.
    """
    if isinstance(body, dict):
        for key in ("error", "message", "detail"):
            value = body.get(key)
            if isinstance(value, str) and value.strip():
                return value.strip()
            if isinstance(value, dict):
                nested = api_error_message(value)
                if nested:
                    return nested
        return fallback
    if isinstance(body, str) and body.strip():
        text = " ".join(body.split())
        return text if len(text) <= _MAX_TEXT else text[: _MAX_TEXT - 1] + "…"
    return fallback


def error_from_response(
    status_code: int,
    body: Any,
    *,
    method: str = "",
    path: str = "",
    retry_after: float | None = None,
    reason: str = "",
) -> TavusAPIError:
    """Build the most specific `TavusAPIError` for an error answer.

    Args:
        status_code: The HTTP status (400 or more).
        body: The parsed JSON body or the raw text.
        method: The request's HTTP method, for the message.
        path: The request's URL path, for the message.
        retry_after: Seconds from a `Retry-After` header, already parsed.
        reason: The HTTP reason phrase, used when the body explains nothing.

    Returns:
        An instance of the subclass that matches the status and text.
    """
    message = api_error_message(body, fallback=reason or f"HTTP {status_code}")
    cls: type[TavusAPIError]
    if status_code in (401, 403):
        cls = TavusAuthError
    elif status_code == 404:
        cls = TavusNotFoundError
    elif status_code == 429:
        cls = TavusRateLimitError
    elif status_code >= 500:
        cls = TavusServerError
    elif status_code == 400 and CONCURRENCY_LIMIT_TEXT in message.lower():
        cls = TavusConcurrencyLimitError
    elif status_code in (400, 422):
        cls = TavusValidationError
    else:
        cls = TavusAPIError
    return cls(status_code, message, body, method=method, path=path, retry_after=retry_after)
