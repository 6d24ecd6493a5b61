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

from cvi_app.doctor.api import check_api
from cvi_app.doctor.daily import check_daily
from cvi_app.doctor.database import check_database
from cvi_app.doctor.masking import mask_secrets
from cvi_app.doctor.public_url import check_public_url
from cvi_app.doctor.redis_check import check_redis
from cvi_app.doctor.result import DEFAULT_TIMEOUT, CheckResult, Status
from cvi_app.doctor.run import run_checks
from cvi_app.doctor.settings_checks import check_mode, check_settings

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
