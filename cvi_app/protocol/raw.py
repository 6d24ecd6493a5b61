"""Turning untrusted input (JSON text, bytes or an already decoded dict) into a plain JSON object."""

from __future__ import annotations

import json
from typing import Any, NoReturn

from .errors import ProtocolError

__all__ = ["load_json_object", "strict_json_loads"]


def _refuse_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not valid JSON")


def strict_json_loads(text: str) -> Any:
    """Decode JSON text, refusing the ``NaN``/``Infinity`` extensions Python accepts by default.

    Args:
        text: JSON text.

    Returns:
        The decoded value.

    Raises:
        ValueError: The text is not valid JSON.
        RecursionError: The text nests deeper than Python can decode.
    """
    return json.loads(text, parse_constant=_refuse_constant)


def load_json_object(raw: object) -> dict[str, Any]:
    """Decode untrusted input into a fresh JSON object.

    A dict is copied through JSON so the result holds only JSON types and shares nothing with
    the caller's data.

    Args:
        raw: JSON text, UTF-8 bytes of JSON text, or a dict.

    Returns:
        The decoded object.

    Raises:
        ProtocolError: The input is not JSON, or is JSON but not an object.
    """
    try:
        if isinstance(raw, bytes | bytearray | memoryview):
            raw = bytes(raw).decode("utf-8")
        if isinstance(raw, str):
            value = strict_json_loads(raw)
        elif isinstance(raw, dict):
            value = strict_json_loads(json.dumps(raw, allow_nan=False))
        else:
            raise ProtocolError(None, f"expected a JSON object, got {type(raw).__name__}")
    except UnicodeDecodeError as exc:
        raise ProtocolError(None, f"not UTF-8 text: {exc.reason}") from exc
    except RecursionError as exc:
        raise ProtocolError(None, "JSON nests too deeply") from exc
    except (ValueError, TypeError) as exc:
        if isinstance(exc, ProtocolError):
            raise
        raise ProtocolError(None, f"not valid JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise ProtocolError(None, f"expected a JSON object, got {_json_kind(value)}")
    return value


def _json_kind(value: object) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    return "null" if value is None else type(value).__name__
