"""Fault injection for the sandbox REST API: make the next requests fail or stall on purpose.

Tests use it to see how callers cope with rate limits, server errors, auth failures and slow
answers, against the real server:

    registry.faults.inject("/conversations", method="POST", status=429,
                           headers={"Retry-After": "1"})
    registry.faults.inject("/conversations/*", delay=2.0)   # stall, then answer normally

Paths are relative to the API root (`/conversations`, not `/sandbox/v2/conversations`) and are
shell-style patterns (`*` also matches `/`).
"""

from __future__ import annotations

import fnmatch
import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Any

__all__ = ["REQUEST_LOG_SIZE", "Fault", "FaultInjector", "default_fault_body"]

REQUEST_LOG_SIZE = 1000


@dataclass
class Fault:
    """One queued fault: which requests it hits and what they get instead.

    Attributes:
        path: Pattern of API-relative paths it applies to.
        method: HTTP method it applies to, or None for any.
        status: Status to answer with, or None to answer normally (after `delay`).
        body: JSON body of the fault answer (a Tavus-like default when None).
        headers: Extra headers of the fault answer (e.g. `Retry-After`).
        delay: Seconds to stall before answering.
        remaining: How many more requests it applies to.
    """

    path: str
    method: str | None = None
    status: int | None = None
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    remaining: int = 1

    def matches(self, method: str, path: str) -> bool:
        """Whether this fault applies to a request."""
        if self.method is not None and self.method.upper() != method.upper():
            return False
        return fnmatch.fnmatchcase(path, self.path)


def default_fault_body(status: int) -> dict[str, str]:
    """The body Tavus would send with this status."""
    if status in (401, 403):
        return {"message": "Invalid access token"}
    if status == 429:
        return {"message": "Too many requests, please slow down"}
    if status >= 500:
        return {"error": "Internal server error"}
    return {"error": "Injected fault"}


class FaultInjector:
    """Queued faults plus a log of the latest requests the API received (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._requests: deque[tuple[str, str]] = deque(maxlen=REQUEST_LOG_SIZE)

    def inject(
        self,
        path: str,
        *,
        method: str | None = None,
        status: int | None = None,
        body: Any = None,
        headers: dict[str, str] | None = None,
        delay: float = 0.0,
        times: int = 1,
    ) -> Fault:
        """Queue a fault for the next `times` requests matching `path` (and `method`).

        Args:
            path: API-relative path or pattern, e.g. `/conversations` or `/personas/*`.
            method: Only requests with this method; any method when None.
            status: Answer with this status instead of handling the request; None to only
                stall for `delay` seconds and then handle the request normally.
            body: JSON body to answer with (a Tavus-like one by default).
            headers: Extra headers, e.g. `{"Retry-After": "1"}`.
            delay: Seconds to wait before answering.
            times: How many matching requests it applies to.

        Returns:
            The queued fault (its `remaining` counts down as it fires).
        """
        if times < 1:
            raise ValueError("times must be at least 1")
        if status is None and delay <= 0:
            raise ValueError("a fault needs a status, a delay, or both")
        fault = Fault(
            path=path,
            method=method,
            status=status,
            body=body,
            headers=dict(headers or {}),
            delay=delay,
            remaining=times,
        )
        with self._lock:
            self._faults.append(fault)
        return fault

    def take(self, method: str, path: str) -> Fault | None:
        """Log a request and return the first fault that applies to it (counting it down)."""
        with self._lock:
            self._requests.append((method.upper(), path))
            for fault in self._faults:
                if fault.matches(method, path):
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def clear(self) -> None:
        """Drop every queued fault and forget the request log."""
        with self._lock:
            self._faults.clear()
            self._requests.clear()

    @property
    def pending(self) -> int:
        """How many requests the queued faults will still hit."""
        with self._lock:
            return sum(fault.remaining for fault in self._faults)

    def requests(self, *, method: str | None = None, path: str = "*") -> list[tuple[str, str]]:
        """The requests received so far, oldest first, optionally filtered.

        Args:
            method: Only this HTTP method.
            path: Only paths matching this pattern.
        """
        with self._lock:
            return [
                (m, p)
                for m, p in self._requests
                if (method is None or m == method.upper()) and fnmatch.fnmatchcase(p, path)
            ]
