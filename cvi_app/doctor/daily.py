"""The daily-python check: it imports and initialises, tried in a child process."""

from __future__ import annotations

import subprocess
import sys

from cvi_app.config import Settings
from cvi_app.doctor.result import DEFAULT_TIMEOUT, CheckResult, _result

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
