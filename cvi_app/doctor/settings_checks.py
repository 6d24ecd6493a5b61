"""The settings check (do they load?) and the mode check (tavus or sandbox)."""

from __future__ import annotations

from cvi_app.config import ConfigError, Settings, load_settings
from cvi_app.doctor.masking import mask_secrets
from cvi_app.doctor.result import CheckResult, _result


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
