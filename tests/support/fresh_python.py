"""Run a snippet in a fresh Python process with only the given app settings in its environment."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def last_line(script: str, *, timeout: float = 180, **env: str) -> str:
    """What a fresh Python prints last after running `script` with only `env` configured.

    The process starts in the repository root, with no `TAVUS_`/`CVI_` variables but `env`.
    """
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("TAVUS_", "CVI_"))}
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=True,
    )
    return result.stdout.strip().splitlines()[-1]
