"""Dedupe keys: how the store recognises the same fact delivered twice."""

from __future__ import annotations

import hashlib
import json
import uuid

__all__ = ["canonical_json", "event_dedupe_key", "payload_hash"]


def canonical_json(raw: str) -> str:
    """Return `raw` JSON re-serialised canonically (sorted keys, no spaces).

    Text that is not JSON is returned unchanged, so it still hashes deterministically.
    """
    try:
        value = json.loads(raw)
    except ValueError:
        return raw
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def payload_hash(raw: str) -> str:
    """A stable hash of a JSON payload: equal for the same JSON however it was formatted."""
    return hashlib.sha256(canonical_json(raw).encode("utf-8")).hexdigest()


def event_dedupe_key(*, seq: int | None, source: str, raw: str) -> str:
    """The key that makes one event stored once per conversation.

    Args:
        seq: The event's `seq`, when it has one: Tavus numbers events per conversation, so the
            same `seq` is the same event however many times it arrives.
        source: Where the event came from (`room`, `webhook` or `app`).
        raw: The event's JSON text.

    Returns:
        `seq:<n>` when `seq` is known; for events the app itself sent, a fresh random key (two
        identical messages sent twice are two sends, not a duplicate); otherwise a hash of the
        canonical JSON.
    """
    if seq is not None:
        return f"seq:{seq}"
    if source == "app":
        return f"app:{uuid.uuid4().hex}"
    return f"sha256:{payload_hash(raw)}"
