"""`python -m cvi_app.doctor` (`make doctor`): one line per check; exit status 1 if any failed.

Warnings do not fail it: they name something that works here but will not where it matters
(webhooks from Tavus to a localhost address, say). When the settings do not load, the other
checks cannot run, and the doctor says so.
"""

from __future__ import annotations

import argparse
import sys

from cvi_app.doctor import DEFAULT_TIMEOUT, CheckResult, check_settings, run_checks


def main(argv: list[str] | None = None) -> int:
    """Run the checks, print one line each, and return the exit status (0: nothing failed)."""
    parser = argparse.ArgumentParser(
        prog="python -m cvi_app.doctor",
        description="Check the settings, the API, daily-python, the public URL, the database "
        "and Redis.",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        help=f"seconds any one check may wait (default {DEFAULT_TIMEOUT:g})",
    )
    args = parser.parse_args(argv)
    if args.timeout <= 0:
        parser.error("--timeout must be positive")
    settings_result, settings = check_settings()
    results: list[CheckResult] = [settings_result]
    if settings is None:
        results.append(
            CheckResult(
                name="checks",
                status="info",
                message="The other checks need the settings: run the doctor again once they load",
            )
        )
    else:
        results.extend(run_checks(settings, timeout=args.timeout))
    for result in results:
        sys.stdout.write(result.line() + "\n")
    failed = sum(result.failed for result in results)
    warned = sum(result.status == "warn" for result in results)
    sys.stdout.write(
        f"\n{failed} failed, {warned} warning{'' if warned == 1 else 's'}\n"
        if failed or warned
        else "\nEverything checked is ready.\n"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
