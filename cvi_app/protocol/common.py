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
    "encode_message",
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


def encode_message(message: dict[str, Any]) -> tuple[str, int]:
    """Return a message as it goes on the wire, and how many bytes that takes.

    This is the one place that knows the wire form and how its size is measured: compact JSON,
    with non-ASCII characters written as themselves rather than as escapes, measured in UTF-8
    bytes.

    Args:
        message: A JSON-ready message (as returned by ``to_message()``).

    Returns:
        The JSON text and its size in bytes.

    Raises:
        TypeError: The message holds a value JSON cannot represent.
        ValueError: The message holds NaN or an infinity, or refers to itself.
        UnicodeEncodeError: The message holds a lone surrogate, which UTF-8 cannot encode.
    """
    text = json.dumps(message, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return text, len(text.encode("utf-8"))


def message_size(message: dict[str, Any]) -> int:
    """Return how many bytes a message takes on the wire (see :func:`encode_message`).

    Raises:
        TypeError, ValueError, UnicodeEncodeError: As :func:`encode_message`.
    """
    return encode_message(message)[1]
