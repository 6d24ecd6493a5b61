"""Untrusted input into typed models: the one path every parse entry point takes.

JSON text, bytes or an already decoded dict become a plain JSON object, and that the model its
``event_type`` names.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

from pydantic import BaseModel, ConfigDict, JsonValue, TypeAdapter, ValidationError

from .errors import ProtocolError

__all__ = ["load_json_object", "strict_json_loads", "validate_message"]

logger = logging.getLogger(__name__)

_M = TypeVar("_M", bound=BaseModel)

# Copies a dict into fresh containers (new dicts and lists all the way down), refusing what JSON
# cannot hold: keys that are not strings, NaN and infinities, tuples, sets, bytes, any object.
_JSON_OBJECT: TypeAdapter[dict[str, JsonValue]] = TypeAdapter(
    dict[str, JsonValue], config=ConfigDict(strict=True, allow_inf_nan=False)
)
_TOO_DEEP = ("recursion_depth_exceeded", "recursion_loop")


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

    The result holds only JSON types and shares nothing with the caller's data. Text is
    decoded; a dict is copied without a trip through JSON text, checked as it is copied (a dict
    more than about 250 levels deep is refused).

    Args:
        raw: JSON text, UTF-8 bytes of JSON text, or a dict.

    Returns:
        The decoded object.

    Raises:
        ProtocolError: The input is not JSON, or is JSON but not an object.
    """
    if isinstance(raw, dict):
        return _copy_json_object(raw)
    try:
        if isinstance(raw, bytes | bytearray | memoryview):
            raw = bytes(raw).decode("utf-8")
        if not isinstance(raw, str):
            raise ProtocolError(None, f"expected a JSON object, got {type(raw).__name__}")
        value = strict_json_loads(raw)
    except UnicodeDecodeError as exc:
        raise ProtocolError(None, f"not UTF-8 text: {exc.reason}") from exc
    except RecursionError as exc:
        raise ProtocolError(None, "JSON nests too deeply") from exc
    except ValueError as exc:
        if isinstance(exc, ProtocolError):
            raise
        raise ProtocolError(None, f"not valid JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise ProtocolError(None, f"expected a JSON object, got {_json_kind(value)}")
    return value


def _copy_json_object(raw: dict[Any, Any]) -> dict[str, Any]:
    try:
        return _JSON_OBJECT.validate_python(raw)
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        if first["type"] in _TOO_DEEP:
            raise ProtocolError(None, "JSON nests too deeply") from None
        raise ProtocolError(None, f"not valid JSON: {first['msg']}") from None


def validate_message(raw: object, pick: Callable[[str], type[_M]], *, what: str) -> _M:
    """Validate untrusted input as the model its ``event_type`` names.

    The path shared by ``parse_event``, ``validate_interaction`` and ``parse_webhook``: load
    a JSON object, check that ``event_type`` is a string, let ``pick`` choose the model (or
    refuse the type), validate, and turn whatever goes wrong into a ProtocolError.

    Args:
        raw: JSON text, UTF-8 bytes of JSON text, or a dict.
        pick: Returns the model for an ``event_type``; may raise ProtocolError to refuse it.
        what: What the message is, for the log and for unexpected failures ("event"...).

    Returns:
        The validated model.

    Raises:
        ProtocolError: The input is not a valid message. Nothing else is raised.
    """
    try:
        message = load_json_object(raw)
        event_type = message.get("event_type")
        if event_type is None:
            raise ProtocolError("event_type", "Field required")
        if not isinstance(event_type, str):
            raise ProtocolError("event_type", "Input should be a valid string")
        return pick(event_type).model_validate(message)
    except ProtocolError as exc:
        logger.debug("rejected %s: %s", what, exc)
        raise
    except ValidationError as exc:
        error = ProtocolError.from_validation_error(exc)
        logger.debug("rejected %s: %s", what, error)
        raise error from None
    except (ValueError, TypeError, RecursionError, OverflowError) as exc:
        # A validator failed in a way it does not report as a validation error.
        logger.debug("rejected %s", what, exc_info=True)
        raise ProtocolError(None, f"invalid {what} ({type(exc).__name__})") from None


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
