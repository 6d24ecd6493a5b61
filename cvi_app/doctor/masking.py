"""Keeping secrets out of what the doctor prints: API keys and passwords in URLs."""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from cvi_app.config import Settings
from cvi_app.doctor.result import CheckResult

_MASK = "***"
# `scheme://user:password@host`: the user part and password, up to the `@`.
_URL_CREDENTIALS = re.compile(r"(://)[^@/\s]+@")


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
