"""The public URL check: whether whoever sends the webhooks can reach `CVI_PUBLIC_URL`."""

from __future__ import annotations

import ipaddress
import socket
import threading
from urllib.parse import urlsplit

from cvi_app.config import Settings
from cvi_app.doctor.masking import _mask_url
from cvi_app.doctor.network import _gai_words
from cvi_app.doctor.result import DEFAULT_TIMEOUT, CheckResult, _result

_LOCAL_SUFFIXES = (".localhost", ".local", ".internal", ".lan", ".home.arpa")


def check_public_url(settings: Settings, *, timeout: float = DEFAULT_TIMEOUT) -> CheckResult:
    """Whether whoever sends the webhooks can reach `CVI_PUBLIC_URL`.

    Tavus mode: Tavus posts webhooks from the internet, so a loopback, private or local-only
    address (or one whose name resolves only to such) is a warning, as is plain http. Sandbox
    mode: the sandbox posts them, and localhost is fine, unless the sandbox service runs on
    another machine.
    """
    url = settings.public_url
    shown = _mask_url(url)
    host = urlsplit(url).hostname or ""
    if settings.mode == "sandbox":
        service_host = urlsplit(settings.sandbox_url).hostname if settings.sandbox_url else None
        if service_host and not _is_local_name(service_host) and _is_local_name(host):
            return _result(
                "public_url",
                "warn",
                f"Public URL {shown} is not reachable from the sandbox service at "
                f"{_mask_url(settings.sandbox_url or '')}: webhooks will not arrive",
                "set CVI_PUBLIC_URL to an address the sandbox service can reach",
            )
        return _result(
            "public_url",
            "ok",
            f"Public URL {shown}: fine in sandbox mode (the sandbox delivers webhooks here)",
        )
    unreachable_fix = "set CVI_PUBLIC_URL to an https address Tavus can reach (e.g. a tunnel)"
    if _is_local_name(host):
        return _result(
            "public_url",
            "warn",
            f"Public URL {shown} is not reachable from Tavus: webhooks will not arrive",
            unreachable_fix,
        )
    addresses = _resolve(host, timeout)
    if isinstance(addresses, str):
        return _result(
            "public_url",
            "warn",
            f"Public URL {shown}: {addresses}, so Tavus cannot reach it either: "
            "webhooks will not arrive",
            unreachable_fix,
        )
    if addresses and all(_is_local_address(address) for address in addresses):
        return _result(
            "public_url",
            "warn",
            f"Public URL {shown} resolves only to private addresses ({', '.join(addresses)}): "
            "webhooks from Tavus will not arrive",
            unreachable_fix,
        )
    if url.startswith("http://"):
        return _result(
            "public_url",
            "warn",
            f"Public URL {shown} is plain http: webhooks and sign-in cookies travel unencrypted",
            "serve the app over https and set CVI_PUBLIC_URL to that address",
        )
    return _result(
        "public_url", "ok", f"Public URL {shown}: a public address, Tavus can send webhooks to it"
    )


def _is_local_name(host: str) -> bool:
    """Whether `host` (a name or an address) is loopback, private or only meaningful locally."""
    name = host.strip("[]").lower().rstrip(".")
    if not name:
        return True
    try:
        return _is_local_address(str(ipaddress.ip_address(name)))
    except ValueError:
        pass
    return name == "localhost" or name.endswith(_LOCAL_SUFFIXES) or "." not in name


def _is_local_address(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    return not ip.is_global or ip.is_multicast


def _resolve(host: str, timeout: float) -> list[str] | str:
    """The addresses `host` resolves to, or a sentence saying why it does not (bounded)."""
    found: list[list[str] | str] = []

    def lookup() -> None:
        try:
            infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as exc:
            found.append(f"the name {host} does not resolve ({_gai_words(exc)})")
            return
        found.append(sorted({str(info[4][0]) for info in infos}))

    thread = threading.Thread(target=lookup, name="doctor-resolve", daemon=True)
    thread.start()
    thread.join(timeout)
    return found[0] if found else f"the name {host} did not resolve within {timeout:g} s"
