"""The last scenario runs, kept as one JSON file for the studio's `/scenarios` page.

The file is `runs.json` in `CVI_SCENARIO_RESULTS` when that is set, else in `scenarios/` beside
the app's SQLite database (`.data/scenarios/` with the default `db_url`; `.data/scenarios/` in
the working folder with PostgreSQL). It holds at most `KEEP` runs, newest first, and is
replaced whole (written to a temporary file, then renamed), under a lock, so a reader never
sees half a file and two runs finishing together both stay.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from pydantic import ValidationError

from cvi_app.scenarios.results import ScenarioResult

__all__ = ["KEEP", "RESULTS_ENV", "keep_results", "read_results", "results_dir", "results_file"]

logger = logging.getLogger(__name__)

RESULTS_ENV = "CVI_SCENARIO_RESULTS"
"""A folder for the results file (default: `scenarios/` beside the SQLite database)."""
KEEP = 20
"""Runs kept (the oldest go first)."""
MAX_FILE_BYTES = 20_000_000
"""A results file larger than this is not read (it was not written here)."""
_FILE = "runs.json"
_VERSION = 1


def results_dir() -> Path:
    """Where the results are kept (see the module's description)."""
    from cvi_app.config import get_settings

    configured = get_settings().scenario_results.strip()
    if configured:
        return Path(configured)
    from sqlalchemy import make_url

    from cvi_app.store.db import UnsupportedDatabaseError, database_url

    try:
        url = make_url(database_url())
    except (UnsupportedDatabaseError, ValueError):
        return Path(".data") / "scenarios"
    database = url.database or ""
    if url.get_backend_name() == "sqlite" and database and database != ":memory:":
        return Path(database.removeprefix("file:").split("?", 1)[0]).parent / "scenarios"
    return Path(".data") / "scenarios"


def results_file(directory: Path | None = None) -> Path:
    """The results file in `directory` (default: `results_dir()`)."""
    return (directory if directory is not None else results_dir()) / _FILE


def _load(path: Path) -> list[ScenarioResult]:
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            logger.warning("scenario results %s are too large to read", path)
            return []
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    except (OSError, ValueError) as exc:
        logger.warning("scenario results %s cannot be read: %s", path, exc)
        return []
    runs = data.get("runs") if isinstance(data, dict) else None
    found: list[ScenarioResult] = []
    for raw in runs if isinstance(runs, list) else []:
        try:
            found.append(ScenarioResult.model_validate(raw))
        except ValidationError:
            logger.info("a stored scenario run could not be read and is left out")
    return found


def read_results(directory: Path | None = None, *, limit: int = KEEP) -> list[ScenarioResult]:
    """The kept runs, newest first (none when there is no file, or it cannot be read)."""
    return _load(results_file(directory))[:limit]


@contextlib.contextmanager
def _locked(directory: Path) -> Iterator[None]:
    with (directory / ".lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def keep_results(
    results: Iterable[ScenarioResult], directory: Path | None = None, *, keep: int = KEEP
) -> Path:
    """Add runs (given oldest first) to the kept ones, keep the newest `keep`; return the file."""
    directory = directory if directory is not None else results_dir()
    directory.mkdir(parents=True, exist_ok=True)
    path = results_file(directory)
    new = list(results)
    with _locked(directory):
        runs = [*reversed(new), *_load(path)][: max(keep, 0)]
        body = {
            "version": _VERSION,
            "runs": [run.model_dump(mode="json") for run in runs],
        }
        fd, temporary = tempfile.mkstemp(dir=directory, prefix=".runs-", suffix=".json")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(body, handle, ensure_ascii=False, indent=1)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
            raise
    return path
