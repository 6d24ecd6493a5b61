"""Error answers become the most specific TavusAPIError, carrying the API's own message."""

from __future__ import annotations

import pytest

from cvi_app.tavus.errors import (
    TavusAPIError,
    TavusAuthError,
    TavusConcurrencyLimitError,
    TavusError,
    TavusNotFoundError,
    TavusRateLimitError,
    TavusServerError,
    TavusValidationError,
    api_error_message,
    error_from_response,
)


@pytest.mark.parametrize(
    ("status", "body", "kind"),
    [
        (400, {"error": "Invalid replica_id"}, TavusValidationError),
        (422, {"message": "bad field"}, TavusValidationError),
        (
            400,
            {"error": "User has reached maximum concurrent conversations"},
            TavusConcurrencyLimitError,
        ),
        (401, {"message": "Invalid access token"}, TavusAuthError),
        (403, {"message": "Forbidden"}, TavusAuthError),
        (404, {"error": "Conversation not found"}, TavusNotFoundError),
        (409, {"error": "Conflict"}, TavusAPIError),
        (429, {"message": "Slow down"}, TavusRateLimitError),
        (500, "<html>oops</html>", TavusServerError),
        (503, None, TavusServerError),
    ],
)
def test_each_status_maps_to_its_error_class(status: int, body: object, kind: type) -> None:
    error = error_from_response(status, body, method="GET", path="/v2/x", reason="Reason")
    assert type(error) is kind
    assert isinstance(error, TavusError)
    assert error.status_code == status
    assert error.body == body
    assert str(status) in str(error) and "GET /v2/x" in str(error)


def test_messages_come_from_error_or_message_keys_or_text() -> None:
    assert api_error_message({"error": " Invalid persona "}) == "Invalid persona"
    assert api_error_message({"message": "Invalid access token"}) == "Invalid access token"
    assert api_error_message({"error": {"message": "nested"}}) == "nested"
    assert api_error_message({"other": 1}, fallback="HTTP 400") == "HTTP 400"
    assert api_error_message("  plain\n text ") == "plain text"
    assert len(api_error_message("x" * 5000)) == 300
    assert error_from_response(502, None, reason="Bad Gateway").message == "Bad Gateway"


def test_rate_limit_error_keeps_retry_after() -> None:
    error = error_from_response(429, {}, retry_after=2.5)
    assert isinstance(error, TavusRateLimitError)
    assert error.retry_after == 2.5
