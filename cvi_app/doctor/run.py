"""Running the checks after the settings side by side, each in a bounded thread."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Mapping

from cvi_app.config import Settings
from cvi_app.doctor.api import check_api
from cvi_app.doctor.daily import check_daily
from cvi_app.doctor.database import check_database
from cvi_app.doctor.masking import _masked, _secrets_of, mask_secrets
from cvi_app.doctor.public_url import check_public_url
from cvi_app.doctor.redis_check import check_redis
from cvi_app.doctor.result import DEFAULT_TIMEOUT, CheckResult, _result
from cvi_app.doctor.settings_checks import check_mode


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
