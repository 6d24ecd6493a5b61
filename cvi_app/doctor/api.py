"""The REST API check: the API of this mode answers and accepts the key."""

from __future__ import annotations

import asyncio

import httpx

from cvi_app.config import Settings
from cvi_app.doctor.masking import _mask_url
from cvi_app.doctor.network import _network_problem
from cvi_app.doctor.result import DEFAULT_TIMEOUT, CheckResult, _result

API_KEYS_PAGE = "https://platform.tavus.io/api-keys"


def check_api(settings: Settings, *, timeout: float = DEFAULT_TIMEOUT) -> CheckResult:
    """Whether the REST API of this mode answers and accepts the key: personas and replicas.

    Tavus mode: Tavus at `TAVUS_API_BASE` with `TAVUS_API_KEY`. Sandbox mode with
    `CVI_SANDBOX_URL`: that service with `CVI_SANDBOX_API_KEY`. Sandbox mode otherwise: the
    sandbox the app mounts, which answers only while the app runs (info, not a failure, when it
    does not); without `CVI_SANDBOX_API_KEY` the running app's key is its own random one, so
    the doctor can only see that it answers.
    """
    return asyncio.run(_check_api(settings, timeout))


async def _check_api(settings: Settings, seconds: float) -> CheckResult:
    if settings.mode == "tavus":
        assert settings.tavus_api_key is not None
        return await _probe_api(
            "Tavus API",
            settings.tavus_api_base,
            settings.tavus_api_key.get_secret_value(),
            seconds,
            key_fix=f"check TAVUS_API_KEY at {API_KEYS_PAGE}",
            unreachable_fix=(
                "check TAVUS_API_BASE (the default is https://tavusapi.com/v2) "
                "and this machine's network"
            ),
            base_variable="TAVUS_API_BASE",
        )
    key = (
        settings.sandbox_api_key.get_secret_value().strip()
        if settings.sandbox_api_key is not None
        else ""
    )
    base = settings.sandbox_api_base
    if settings.sandbox_url is not None:
        return await _probe_api(
            "Sandbox service API",
            base,
            key,
            seconds,
            key_fix="set CVI_SANDBOX_API_KEY to the key the sandbox service accepts",
            unreachable_fix=(
                "start it (CVI_SANDBOX_API_KEY=<key> .venv/bin/python -m cvi_app.sandbox "
                "--port 8100) or correct CVI_SANDBOX_URL"
            ),
            base_variable="CVI_SANDBOX_URL",
        )
    not_running = _result(
        "api", "info", f"Sandbox API at {base}: not running (start the app with make run)"
    )
    if not key:
        return await _probe_mounted_without_key(base, seconds, not_running)
    return await _probe_api(
        "Sandbox API",
        base,
        key,
        seconds,
        key_fix="run the doctor with the CVI_SANDBOX_API_KEY the app was started with",
        unreachable_fix="",
        base_variable="CVI_PUBLIC_URL",
        not_running=not_running,
    )


async def _probe_api(
    label: str,
    base: str,
    key: str,
    seconds: float,
    *,
    key_fix: str,
    unreachable_fix: str,
    base_variable: str,
    not_running: CheckResult | None = None,
) -> CheckResult:
    """List personas and replicas (counts only) through the app's own Tavus client.

    `not_running` is the answer when nothing answers (or a mounted sandbox says 503): the
    mounted sandbox is only up while the app runs.
    """
    from cvi_app.tavus import (
        TavusAPIError,
        TavusAuthError,
        TavusClient,
        TavusError,
        TavusNotFoundError,
        TavusServerError,
        TavusTimeoutError,
        TavusTransportError,
    )

    shown = _mask_url(base)
    try:
        async with TavusClient(
            api_key=key, base_url=base, timeout=seconds, max_retries=0
        ) as client:
            personas, replicas = await asyncio.wait_for(
                asyncio.gather(client.list_personas(limit=100), client.list_replicas(limit=100)),
                seconds,
            )
    except TavusAuthError as exc:
        return _result("api", "fail", f"{label} key refused ({exc.status_code})", key_fix)
    except TavusNotFoundError:
        return _result(
            "api",
            "fail",
            f"{label} at {shown} has no /personas (404): it is not a Tavus API base",
            f"set {base_variable} to the right address",
        )
    except TavusServerError as exc:
        if not_running is not None and exc.status_code == 503:
            return not_running
        return _result(
            "api",
            "fail",
            f"{label} at {shown} failed on its side ({exc.status_code}: {exc.message})",
            "try again in a few minutes",
        )
    except TavusAPIError as exc:
        return _result(
            "api", "fail", f"{label} at {shown} answered {exc.status_code}: {exc.message}"
        )
    except (TavusTimeoutError, TimeoutError):
        if not_running is not None:
            return not_running
        return _result(
            "api",
            "fail",
            f"{label} at {shown}: no answer within {seconds:g} s",
            unreachable_fix or None,
        )
    except TavusTransportError as exc:
        if not_running is not None:
            return not_running
        return _result(
            "api",
            "fail",
            f"{label} at {shown} is not reachable: {_network_problem(exc, base, seconds)}",
            unreachable_fix or None,
        )
    except TavusError as exc:
        return _result(
            "api",
            "fail",
            f"{label} at {shown} does not answer like the Tavus API ({exc})",
            f"check {base_variable}",
        )
    return _result(
        "api",
        "ok",
        f"{label} at {shown}: key accepted, {_count(personas, 'persona')}, "
        f"{_count(replicas, 'replica')}",
    )


async def _probe_mounted_without_key(
    base: str, seconds: float, not_running: CheckResult
) -> CheckResult:
    """The mounted sandbox when its key is the running app's own: whether it answers at all."""
    try:
        async with httpx.AsyncClient(timeout=seconds) as http:
            response = await asyncio.wait_for(http.get(f"{base}/personas"), seconds)
    except (httpx.TransportError, TimeoutError):
        return not_running
    if response.status_code == 503 or response.status_code == 404:
        return not_running
    return _result(
        "api",
        "info",
        f"Sandbox API at {_mask_url(base)}: running; it accepts only the key the app made "
        "at start, so personas and replicas were not listed "
        "(set CVI_SANDBOX_API_KEY for the app and the doctor to check them)",
    )


def _count(page: object, noun: str) -> str:
    data = getattr(page, "data", [])
    total = max(int(getattr(page, "total_count", 0) or 0), len(data))
    return f"{total} {noun}" + ("" if total == 1 else "s")
