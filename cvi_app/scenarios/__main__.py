"""`python -m cvi_app.scenarios run PATH... [--junit FILE] [--mode sandbox|tavus]`.

Runs each scenario file (a folder stands for the scenario files in it) and prints every turn:
passed, or failed with its reasons. `check PATH...` only reads the files.

Exit status: 0 everything passed (turns that could not be checked do not fail), 1 something
failed, 2 a scenario file (or the command line, or the settings) is not usable.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from cvi_app.config import ConfigError
from cvi_app.scenarios.api import default_options, run_scenarios
from cvi_app.scenarios.environment import DEFAULT_PACE, Environment, private_store
from cvi_app.scenarios.junit import write_junit
from cvi_app.scenarios.loading import ScenarioFile, ScenarioFileError, find_scenario_files
from cvi_app.scenarios.loading import load_scenario as load_file
from cvi_app.scenarios.results import ScenarioResult
from cvi_app.scenarios.store import keep_results, results_dir

EXIT_PASSED, EXIT_FAILED, EXIT_UNUSABLE = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m cvi_app.scenarios",
        description="Run scenario files: scripted conversations and what each turn must bring.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="{run,check}")
    run = commands.add_parser("run", help="run scenarios and report each turn")
    run.add_argument("paths", nargs="+", metavar="PATH", help="a scenario file, or a folder")
    run.add_argument("--junit", type=Path, metavar="FILE", help="also write JUnit XML here")
    run.add_argument(
        "--mode",
        choices=("sandbox", "tavus"),
        default="sandbox",
        help="sandbox (default): the local simulated replica; tavus: the real API "
        "(TAVUS_API_KEY), in its test mode unless --with-replica",
    )
    run.add_argument(
        "--with-replica",
        action="store_true",
        help="tavus mode: a real replica joins and every expectation is checked (uses credits)",
    )
    run.add_argument(
        "--in-process",
        action="store_true",
        help="sandbox mode: serve a sandbox in this process even when an app's is reachable",
    )
    run.add_argument(
        "--pace",
        type=float,
        default=DEFAULT_PACE,
        metavar="WORDS",
        help=f"words a second the in-process sandbox's replica speaks (default {DEFAULT_PACE:g})",
    )
    run.add_argument(
        "--timeout",
        type=float,
        metavar="SECONDS",
        help="seconds each turn waits for its reply (default: each scenario's turn_timeout)",
    )
    run.add_argument(
        "--no-record",
        action="store_true",
        help="do not keep the results for the studio's /scenarios page",
    )
    check = commands.add_parser("check", help="only read the files and say what is wrong")
    check.add_argument("paths", nargs="+", metavar="PATH", help="a scenario file, or a folder")
    return parser


def _load_all(paths: Sequence[str]) -> tuple[list[ScenarioFile], list[str]]:
    """Every scenario named, and every problem of every file (each naming its file)."""
    found: list[Path] = []
    problems: list[str] = []
    for named in paths:
        try:
            found += find_scenario_files([named])
        except ScenarioFileError as exc:
            problems += str(exc).splitlines()
    loaded: list[ScenarioFile] = []
    for path in found:
        try:
            loaded.append(load_file(path))
        except ScenarioFileError as exc:
            problems += str(exc).splitlines()
    return loaded, problems


def _unusable(problems: list[str]) -> int:
    for problem in problems:
        sys.stderr.write(f"{problem}\n")
    return EXIT_UNUSABLE


def _say(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


class _Printer:
    """Says where the run happens once, then each result as it comes."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.said: list[str] = []

    def started(self, env: Environment) -> None:
        plural = "" if self.count == 1 else "s"
        _say(f"Running {self.count} scenario{plural} in {env.mode} mode against {env.where}.")
        for note in env.notes:
            _say(f"Note: {note}")
        _say("")
        self.said = [f"Ran against {env.where}.", *env.notes]

    def finished(self, result: ScenarioResult) -> None:
        _say(result.report(said=self.said))
        _say("")


def _run(args: argparse.Namespace) -> int:
    files, problems = _load_all(args.paths)
    if problems:
        return _unusable(problems)
    # Where the studio reads results: beside the app's database, found before the run swaps
    # in a store of its own.
    keep_in = results_dir()
    options = default_options(args.mode, with_replica=args.with_replica)
    if args.timeout is not None:
        options = dataclasses.replace(options, turn_timeout=args.timeout)
    printer = _Printer(len(files))
    try:
        with private_store():
            results = asyncio.run(
                run_scenarios(
                    files,
                    mode=args.mode,
                    in_process=args.in_process,
                    pace=args.pace,
                    options=options,
                    started=printer.started,
                    finished=printer.finished,
                )
            )
    except ConfigError as exc:
        sys.stderr.write(f"{exc}\n")
        return EXIT_UNUSABLE
    passed = sum(result.passed for result in results)
    failed = len(results) - passed
    lines = [
        f"{len(results)} scenario{'' if len(results) == 1 else 's'}: {passed} passed, {failed} failed."
    ]
    if args.junit is not None:
        write_junit(results, args.junit)
        lines.append(f"JUnit XML: {args.junit}")
    if not args.no_record:
        lines.append(f"Results kept in {keep_results(results, keep_in)} (shown at /scenarios).")
    _say("\n".join(lines))
    return EXIT_PASSED if failed == 0 else EXIT_FAILED


def _check(args: argparse.Namespace) -> int:
    files, problems = _load_all(args.paths)
    if problems:
        return _unusable(problems)
    for item in files:
        turns = len(item.scenario.turns)
        _say(f"{item.source}: {item.title}, {turns} turn{'' if turns == 1 else 's'}: usable")
    return EXIT_PASSED


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; return its exit status."""
    args = _parser().parse_args(argv)
    if getattr(args, "with_replica", False) and args.mode != "tavus":
        _parser().error("--with-replica goes with --mode tavus")
    if getattr(args, "pace", 1.0) <= 0 or (getattr(args, "timeout", None) or 1.0) <= 0:
        _parser().error("--pace and --timeout must be positive")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    # Retries are the client's business; their warnings would only repeat the final error.
    logging.getLogger("cvi_app.tavus").setLevel(logging.ERROR)
    if args.command == "check":
        return _check(args)
    return _run(args)


if __name__ == "__main__":
    sys.exit(main())
