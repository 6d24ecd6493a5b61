"""Reading a request body with a hard cap.

A body is refused by its declared size before any of it is read, and reading stops as soon as a
body without one passes the cap.
"""

from __future__ import annotations

from starlette.requests import Request

__all__ = ["BodyTooLarge", "InvalidContentLength", "read_capped_body"]


class BodyTooLarge(Exception):
    """The body is (or says it is) over the cap."""


class InvalidContentLength(ValueError):
    """The Content-Length header is not a number."""


async def read_capped_body(request: Request, limit: int) -> bytes:
    """The body of `request`, at most `limit` bytes.

    Raises:
        BodyTooLarge: The declared or the received size passes `limit`.
        InvalidContentLength: The Content-Length header is not a number.
        starlette.requests.ClientDisconnect: The client went away mid-body.
    """
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            size = int(declared)
        except ValueError:
            raise InvalidContentLength("The Content-Length header is not a number.") from None
        if size > limit:
            raise BodyTooLarge
    chunks: list[bytes] = []
    received = 0
    async for chunk in request.stream():
        received += len(chunk)
        if received > limit:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)
