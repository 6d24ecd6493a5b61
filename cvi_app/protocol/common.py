"""Shared vocabulary of the protocol: roles, sensitivity levels and the app-message size limit."""

from __future__ import annotations

import json
from typing import Any, Literal, get_args

__all__ = [
    "MAX_APP_MESSAGE_BYTES",
    "ROLES",
    "SENSITIVITY_LEVELS",
    "Role",
    "SensitivityLevel",
    "message_size",
]

Role = Literal["user", "replica", "pal"]
"""Who an utterance or speaking event belongs to; ``pal`` is the newer name for the replica."""

SensitivityLevel = Literal["superlow", "verylow", "low", "medium", "high", "auto"]
"""Values of ``participant_pause_sensitivity`` and ``participant_interrupt_sensitivity``."""

ROLES: tuple[Role, ...] = get_args(Role)
SENSITIVITY_LEVELS: tuple[SensitivityLevel, ...] = get_args(SensitivityLevel)

MAX_APP_MESSAGE_BYTES = 4096
"""Daily's documented limit for one app-message, measured by :func:`message_size`."""


def message_size(message: dict[str, Any]) -> int:
    """Return how many bytes a message takes on the wire.

    This is the one place that knows how size is measured: UTF-8 bytes of compact JSON, with
    non-ASCII characters written as themselves rather than as escapes.

    Args:
        message: A JSON-ready message (as returned by ``to_message()``).

    Returns:
        The size in bytes.

    Raises:
        UnicodeEncodeError: The message holds a lone surrogate, which UTF-8 cannot encode.
    """
    return len(json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))
