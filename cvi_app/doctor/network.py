"""Network errors in plain words: a connection failure as a person would say it."""

from __future__ import annotations

import errno
import socket
import ssl
from collections.abc import Iterable
from urllib.parse import urlsplit

import httpx

from cvi_app.doctor.masking import mask_secrets


def _network_problem(exc: BaseException, url: str, timeout: float) -> str:
    """A connection failure as a person would say it, from the whole chain of causes."""
    parts = urlsplit(url)
    host = parts.hostname or "the host"
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        port = None
    where = f"{host}:{port}" if port else host
    for cause in _causes(exc):
        if isinstance(cause, ConnectionRefusedError):
            return f"nothing accepts connections at {where} (connection refused)"
        if isinstance(cause, socket.gaierror):
            return f"the name {host} does not resolve ({_gai_words(cause)})"
        if isinstance(cause, ssl.SSLCertVerificationError):
            return f"the TLS certificate of {host} could not be verified"
        if isinstance(cause, ssl.SSLError):
            return f"the TLS handshake with {host} failed"
        if isinstance(cause, TimeoutError | httpx.TimeoutException):
            return f"no answer from {where} within {timeout:g} s"
        if isinstance(cause, OSError) and cause.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH):
            return f"there is no network route to {host}"
    text = " ".join(str(exc).split()).lower()
    if "refused" in text:
        return f"nothing accepts connections at {where} (connection refused)"
    if "name or service not known" in text or "nodename nor servname" in text:
        return f"the name {host} does not resolve"
    if "timed out" in text or "timeout" in text:
        return f"no answer from {where} within {timeout:g} s"
    return f"the connection failed ({mask_secrets(' '.join(str(exc).split()))[:200]})"


def _causes(exc: BaseException) -> Iterable[BaseException]:
    seen: set[int] = set()
    pending: list[BaseException] = [exc]
    while pending:
        current = pending.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        pending.extend(getattr(current, "exceptions", ()) or ())
        for linked in (current.__cause__, current.__context__):
            if linked is not None:
                pending.append(linked)


def _gai_words(exc: BaseException) -> str:
    text = getattr(exc, "strerror", None) or str(exc)
    return str(text).strip() or type(exc).__name__
