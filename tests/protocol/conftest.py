"""The protocol's example messages (tests/protocol/fixtures/*.jsonl).

They are a copy of the fixtures published with the protocol description, kept in the repo so
the tests run from a clone alone; copy them in again when the published ones change.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FIXTURES_DIR = Path(__file__).parent / "fixtures"


def load_fixture_cases(name: str) -> list[tuple[str, Any]]:
    """Return (expect, raw) pairs of one .jsonl fixture file, failing loudly when it is missing."""
    path = FIXTURES_DIR / name
    if not path.is_file():
        raise FileNotFoundError(f"protocol fixture {path} is missing from the repo")
    cases = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        case = json.loads(line)
        assert case["expect"] in ("ok", "reject"), f"{name}:{number}: bad expect"
        cases.append((case["expect"], case["raw"]))
    if not cases:
        raise AssertionError(f"protocol fixture {path} holds no cases")
    return cases
