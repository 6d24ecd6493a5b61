"""`make doctor`: check what a user is about to rely on, one line each, with the fix on failure.

Each check returns a `CheckResult` (ok, warn, fail or info, a message, and the fix when there is
one) and never raises: a problem is reported in plain words, not as a traceback. Every check is
bounded by a short timeout, so the doctor never hangs, and nothing it prints holds a secret (API
keys, and passwords in database or Redis URLs, are masked).

    ok    Mode: sandbox (no TAVUS_API_KEY)
    FAIL  Tavus API key refused (401). Fix: check TAVUS_API_KEY at https://platform.tavus.io/api-keys

`check_settings()` reads the settings; `run_checks(settings)` runs the others, side by side.
"""

from __future__ import annotations

import asyncio
import errno
import ipaddress
import os
import re
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

import httpx
from pydantic import BaseModel, ConfigDict

from cvi_app.config import ConfigError, Settings, load_settings

__all__ = [
    "DEFAULT_TIMEOUT",
    "CheckResult",
    "Status",
    "check_api",
    "check_daily",
    "check_database",
    "check_mode",
    "check_public_url",
    "check_redis",
    "check_settings",
    "mask_secrets",
    "run_checks",
]

Status = Literal["ok", "warn", "fail", "info"]

DEFAULT_TIMEOUT = 5.0
"""Seconds any one check may wait for a server, a process or a name lookup."""

API_KEYS_PAGE = "https://platform.tavus.io/api-keys"
_LABELS: dict[Status, str] = {"ok": "ok", "warn": "warn", "fail": "FAIL", "info": "info"}
_WIDTH = 6
_MASK = "***"
# `scheme://user:password@host`: the user part and password, up to the `@`.
_URL_CREDENTIALS = re.compile(r"(://)[^@/\s]+@")


class CheckResult(BaseModel):
    """What one check found.

    Attributes:
        name: Which check (`settings`, `mode`, `api`, `daily`, `public_url`, `database`, `redis`).
        status: `ok`; `warn` (works, but something will not); `fail` (fix it before relying on
            it); `info` (not needed in this setup, or not running yet).
        message: What was found, in plain words (no secrets).
        fix: What to do about it, when there is something to do.
    """

    model_config = ConfigDict(frozen=True)

    name: str
    status: Status
    message: str
    fix: str | None = None

    @property
    def failed(self) -> bool:
        """Whether this result makes the doctor exit with status 1."""
        return self.status == "fail"

    def line(self) -> str:
        """The printed form: label, message, `. Fix: ...`; later lines of a message indented."""
        text = self.message.rstrip()
        if self.fix:
            text = f"{text.rstrip('.')}. Fix: {self.fix}"
        first, *rest = text.splitlines() or [""]
        lines = [f"{_LABELS[self.status]:<{_WIDTH}}{first}"]
        lines.extend(f"{'':<{_WIDTH}}{line.strip()}" for line in rest)
        return "\n".join(lines)


def _result(name: str, status: Status, message: str, fix: str | None = None) -> CheckResult:
    return CheckResult(name=name, status=status, message=message, fix=fix)


# --- settings and mode ------------------------------------------------------------------------


def check_settings() -> tuple[CheckResult, Settings | None]:
    """Read the settings as the app does; a bad variable is named, as `load_settings` names it.

    Returns:
        The result, and the settings when they loaded (None otherwise).
    """
    try:
        settings = load_settings()
    except ConfigError as exc:
        problems = [line.strip() for line in str(exc).splitlines()[1:] if line.strip()]
        message = "Settings: " + "\n".join(problems or [str(exc)])
        return (
            _result(
                "settings",
                "fail",
                mask_secrets(message),
                'correct the variable named above (README, "Environment variables")',
            ),
            None,
        )
    return _result("settings", "ok", "Settings: every variable is valid"), settings


def check_mode(settings: Settings) -> CheckResult:
    """Which mode the settings choose, and what that means for the other checks."""
    if settings.mode == "tavus":
        return _result("mode", "ok", "Mode: tavus (TAVUS_API_KEY set)")
    where = (
        f"the sandbox service at {settings.sandbox_url}"
        if settings.sandbox_url
        else "the app's own sandbox"
    )
    return _result("mode", "ok", f"Mode: sandbox (no TAVUS_API_KEY), using {where}")


# --- the REST API -----------------------------------------------------------------------------


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


# --- daily-python -----------------------------------------------------------------------------

_DAILY_PROBE = (
    "import importlib.metadata as m, daily\n"
    "daily.Daily.init()\n"
    "daily.Daily.deinit()\n"
    "print(m.version('daily-python'))\n"
)


def check_daily(
    settings: Settings, *, timeout: float = DEFAULT_TIMEOUT, python: str = sys.executable
) -> CheckResult:
    """Whether daily-python imports and initialises (`Daily.init()`), in a child process.

    Only tavus mode joins Daily rooms; in sandbox mode the result is info either way.

    Args:
        settings: The settings (for the mode).
        timeout: Seconds the child may take.
        python: The interpreter to try it in (the doctor's own by default).
    """
    needed = settings.mode == "tavus"
    try:
        done = subprocess.run(
            [python, "-c", _DAILY_PROBE],
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except subprocess.TimeoutExpired:
        problem = f"did not initialise within {timeout:g} s"
    except OSError as exc:
        problem = f"could not be tried ({exc.strerror or exc})"
    else:
        if done.returncode == 0:
            version = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else "?"
            if needed:
                return _result("daily", "ok", f"daily-python {version}: imports and initialises")
            return _result(
                "daily",
                "info",
                f"daily-python {version}: imports and initialises (only needed in tavus mode)",
            )
        errors = [line for line in done.stderr.strip().splitlines() if line.strip()]
        last = errors[-1].strip() if errors else f"exit status {done.returncode}"
        if "No module named 'daily'" in last:
            problem = "is not installed"
        else:
            problem = f"does not work here ({last})"
    if not needed:
        return _result("daily", "info", f"daily-python {problem} (only needed in tavus mode)")
    return _result(
        "daily",
        "fail",
        f"daily-python {problem}: the app cannot join Tavus's Daily rooms",
        "make setup (it installs requirements.txt, daily-python included; it needs Linux or "
        "macOS on x86-64 or arm64)",
    )


# --- the public URL ---------------------------------------------------------------------------

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


def _gai_words(exc: BaseException) -> str:
    text = getattr(exc, "strerror", None) or str(exc)
    return str(text).strip() or type(exc).__name__


# --- the database -----------------------------------------------------------------------------


def check_database(db_url: str | None = None, *, timeout: float = DEFAULT_TIMEOUT) -> CheckResult:
    """Whether the database answers and is at the latest migration (alembic head).

    Args:
        db_url: The database (default: Reflex's `db_url`, i.e. `REFLEX_DB_URL` or rxconfig.py).
        timeout: Seconds to wait for the connection.
    """
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import create_engine, make_url
    from sqlalchemy.exc import SQLAlchemyError

    from cvi_app.store.db import UnsupportedDatabaseError, database_url
    from cvi_app.store.migrate import head_revision

    try:
        url = database_url(db_url)
    except UnsupportedDatabaseError as exc:
        return _result(
            "database",
            "fail",
            f"Database: {mask_secrets(str(exc))}",
            "set REFLEX_DB_URL to sqlite:///.data/cvi_studio.db or "
            "postgresql+psycopg://user:password@host/dbname",
        )
    except Exception as exc:  # rxconfig.py could not be read: say so, not a traceback
        return _result(
            "database",
            "fail",
            f"Database: Reflex's configuration could not be read ({type(exc).__name__}: "
            f"{mask_secrets(str(exc))})",
            "run the doctor from the project folder (make doctor)",
        )
    shown = _mask_url(url)
    head = head_revision()
    sqlite = url.startswith("sqlite")
    connect_args: dict[str, object]
    if sqlite:
        path = make_url(url).database
        if path and path != ":memory:" and not path.startswith("file:") and not Path(path).exists():
            return _result(
                "database",
                "fail",
                f"Database {shown} does not exist yet (no migration applied)",
                "make migrate",
            )
        connect_args = {"timeout": timeout}
    else:
        connect_args = {"connect_timeout": max(1, round(timeout))}
    try:
        engine = create_engine(url, connect_args=connect_args)
    except (SQLAlchemyError, ImportError, ValueError) as exc:
        return _result(
            "database",
            "fail",
            f"Database {shown} cannot be used: {_database_problem(exc)}",
            "check REFLEX_DB_URL",
        )
    try:
        with engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
    except SQLAlchemyError as exc:
        return _database_unreachable(shown, exc)
    finally:
        engine.dispose()
    if current == head:
        return _result("database", "ok", f"Database {shown}: at the latest migration ({head})")
    if current is None:
        return _result(
            "database", "fail", f"Database {shown} has no migration applied", "make migrate"
        )
    if not _known_revision(current):
        return _result(
            "database",
            "fail",
            f"Database {shown} is at revision {current}, which this code does not know "
            "(a newer release migrated it?)",
            "update the code, or point REFLEX_DB_URL at this release's database",
        )
    return _result(
        "database",
        "fail",
        f"Database {shown} is at revision {current}, behind the latest ({head})",
        "make migrate",
    )


def _known_revision(revision: str) -> bool:
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    from cvi_app.store.migrate import alembic_config

    try:
        return (
            ScriptDirectory.from_config(alembic_config("sqlite://")).get_revision(revision)
            is not None
        )
    except CommandError:
        return False


def _database_unreachable(shown: str, exc: BaseException) -> CheckResult:
    problem = _database_problem(exc)
    lower = problem.lower()
    if "password authentication failed" in lower or "authentication failed" in lower:
        return _result(
            "database",
            "fail",
            f"Database {shown} refused the user name or password",
            "check the user and password in REFLEX_DB_URL",
        )
    if "does not exist" in lower and "database" in lower:
        return _result(
            "database",
            "fail",
            f"Database {shown}: {problem}",
            "create it (createdb), then make migrate",
        )
    return _result(
        "database",
        "fail",
        f"Database {shown} is not reachable: {problem}",
        "start the database server, or correct REFLEX_DB_URL",
    )


def _database_problem(exc: BaseException) -> str:
    original = getattr(exc, "orig", None) or exc
    text = " ".join(str(original).split())
    lower = text.lower()
    if "connection refused" in lower:
        where = re.search(r'server at "([^"]+)", port (\d+)', text)
        at = f" at {where.group(1)}:{where.group(2)}" if where else ""
        return f"nothing accepts connections{at} (connection refused)"
    if "timeout expired" in lower or "timed out" in lower:
        return "no answer in time (connection timed out)"
    if "could not translate host name" in lower or "name or service not known" in lower:
        return "its host name does not resolve"
    if "database is locked" in lower:
        return "the SQLite file is locked by another process"
    if "unable to open database file" in lower:
        return "the SQLite file cannot be opened (check the folder and its permissions)"
    text = re.sub(r"\(Background on this error at: [^)]*\)", "", text).strip()
    return mask_secrets(text[:300])


# --- Redis ------------------------------------------------------------------------------------


def check_redis(
    redis_url: str | None, *, db_url: str | None = None, timeout: float = DEFAULT_TIMEOUT
) -> CheckResult:
    """Whether Redis answers PING, when `REFLEX_REDIS_URL` is set (skipped otherwise).

    Args:
        redis_url: The configured Redis URL, or None when none is.
        db_url: The database URL, when known: the cluster shape needs PostgreSQL, not SQLite.
        timeout: Seconds to wait for the connection and the answer.
    """
    if redis_url is None:
        return _result(
            "redis",
            "info",
            "Redis: skipped (REFLEX_REDIS_URL unset: one process with an in-process bus)",
        )
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    shown = _mask_url(redis_url)
    fix = "start Redis, or correct REFLEX_REDIS_URL (make run-cluster starts one here)"
    try:
        client = redis.Redis.from_url(
            redis_url,
            socket_connect_timeout=timeout,
            socket_timeout=timeout,
            retry=Retry(NoBackoff(), 0),
        )
    except ValueError as exc:
        return _result(
            "redis",
            "fail",
            f"Redis: REFLEX_REDIS_URL {shown} is not a Redis URL ({mask_secrets(str(exc))})",
            "use a URL like redis://host:6379/0",
        )
    try:
        with client:
            client.ping()
    except redis.AuthenticationError:
        return _result(
            "redis",
            "fail",
            f"Redis at {shown} refused the password",
            "check the password in REFLEX_REDIS_URL",
        )
    except redis.TimeoutError:
        return _result("redis", "fail", f"Redis at {shown}: no answer within {timeout:g} s", fix)
    except redis.ConnectionError as exc:
        return _result(
            "redis",
            "fail",
            f"Redis at {shown} is not reachable: {_network_problem(exc, redis_url, timeout)}",
            fix,
        )
    except redis.RedisError as exc:
        return _result(
            "redis",
            "fail",
            f"Redis at {shown} did not answer PING: {mask_secrets(str(exc))}",
            fix,
        )
    if db_url is not None and db_url.startswith("sqlite"):
        return _result(
            "redis",
            "warn",
            f"Redis at {shown} answers PING, but the database is SQLite: the processes of a "
            "cluster would not share it",
            "set REFLEX_DB_URL to PostgreSQL (postgresql+psycopg://user:password@host/dbname)",
        )
    return _result("redis", "ok", f"Redis at {shown} answers PING")


# --- network errors in plain words --------------------------------------------------------------


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


# --- secrets ----------------------------------------------------------------------------------


def mask_secrets(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with each of `secrets`, and the credentials in any URL, replaced by `***`."""
    for secret in sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True):
        text = text.replace(secret, _MASK)
    return _URL_CREDENTIALS.sub(rf"\1{_MASK}@", text)


def _mask_url(url: str) -> str:
    return mask_secrets(url)


def _secrets_of(settings: Settings, urls: Iterable[str | None]) -> list[str]:
    found = [
        value.get_secret_value()
        for value in (
            settings.tavus_api_key,
            settings.sandbox_api_key,
            settings.webhook_secret,
            settings.secret_key,
        )
        if value is not None
    ]
    for url in urls:
        if url:
            try:
                password = urlsplit(url).password
            except ValueError:
                password = None
            if password:
                found.append(password)
    return found


def _masked(result: CheckResult, secrets: list[str]) -> CheckResult:
    return result.model_copy(
        update={
            "message": mask_secrets(result.message, secrets),
            "fix": mask_secrets(result.fix, secrets) if result.fix else None,
        }
    )


# --- running them -----------------------------------------------------------------------------


def run_checks(
    settings: Settings,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    db_url: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> list[CheckResult]:
    """Run every check after the settings, side by side; each is bounded by `timeout`.

    Args:
        settings: The loaded settings (see `check_settings`).
        timeout: Seconds any one check may wait (a stuck check is reported after a little more).
        db_url: The database to check (default: Reflex's configured `db_url`).
        environ: Where `REFLEX_REDIS_URL` is read from (default: this process's environment).

    Returns:
        One result per check, in a fixed order: mode, API, daily-python, public URL, database,
        Redis. Secrets never appear in them.
    """
    from cvi_app.live.bus_factory import configured_redis_url

    redis_url = configured_redis_url(os.environ if environ is None else environ)
    resolved_db = _resolved_database_url(db_url)
    checks: list[tuple[str, Callable[[], CheckResult]]] = [
        ("mode", lambda: check_mode(settings)),
        ("api", lambda: check_api(settings, timeout=timeout)),
        ("daily", lambda: check_daily(settings, timeout=timeout)),
        ("public_url", lambda: check_public_url(settings, timeout=timeout)),
        ("database", lambda: check_database(db_url, timeout=timeout)),
        ("redis", lambda: check_redis(redis_url, db_url=resolved_db, timeout=timeout)),
    ]
    results = _run_bounded(checks, deadline=timeout + 3.0)
    secrets = _secrets_of(settings, [resolved_db, redis_url, settings.tavus_api_base])
    return [_masked(result, secrets) for result in results]


def _resolved_database_url(db_url: str | None) -> str | None:
    try:
        from cvi_app.store.db import database_url

        return database_url(db_url)
    except Exception:  # reported by the database check itself
        return None


def _run_bounded(
    checks: list[tuple[str, Callable[[], CheckResult]]], *, deadline: float
) -> list[CheckResult]:
    """Run each check in its own daemon thread; one that overruns `deadline` is a failure."""
    slots: list[CheckResult | None] = [None] * len(checks)
    threads: list[threading.Thread] = []

    def runner(index: int, name: str, check: Callable[[], CheckResult]) -> None:
        try:
            slots[index] = check()
        except Exception as exc:  # a check that breaks says so in one line
            slots[index] = _result(
                name,
                "fail",
                f"The {name} check could not run: {type(exc).__name__}: "
                f"{mask_secrets(' '.join(str(exc).split()))[:300]}",
            )

    for index, (name, check) in enumerate(checks):
        thread = threading.Thread(
            target=runner, args=(index, name, check), name=f"doctor-{name}", daemon=True
        )
        thread.start()
        threads.append(thread)
    end = time.monotonic() + deadline
    for thread in threads:
        thread.join(max(0.0, end - time.monotonic()))
    return [
        slot
        if slot is not None
        else _result(name, "fail", f"The {name} check did not finish within {deadline:g} s")
        for (name, _), slot in zip(checks, slots, strict=True)
    ]
