"""Entry points for untrusted messages: parse inbound events, validate outbound interactions."""

from __future__ import annotations

import logging
from typing import Any

from pydantic import ValidationError

from .errors import ProtocolError
from .events import EVENT_TYPES, Event, GenericEvent
from .interactions import INTERACTION_TYPES, UNDOCUMENTED_ALIASES, Interaction
from .raw import load_json_object

__all__ = ["parse_event", "validate_interaction"]

logger = logging.getLogger(__name__)


def parse_event(raw: str | bytes | dict[str, Any]) -> Event:
    """Parse one inbound app-message into its typed event.

    There is no size limit on what is received. An unknown ``event_type`` gives a
    :class:`GenericEvent` (forward compatibility).

    Args:
        raw: JSON text, UTF-8 bytes of JSON text, or an already decoded dict.

    Returns:
        The event, as the model registered for its type in EVENT_TYPES.

    Raises:
        ProtocolError: Not a JSON object, no string ``event_type``, a required field missing or
            a known field of the wrong type. Nothing else is raised.
    """
    try:
        message = load_json_object(raw)
        event_type = message.get("event_type")
        if event_type is None:
            raise ProtocolError("event_type", "Field required")
        if not isinstance(event_type, str):
            raise ProtocolError("event_type", "Input should be a valid string")
        model = EVENT_TYPES.get(event_type, GenericEvent)
        return model.model_validate(message)
    except ProtocolError as exc:
        logger.debug("rejected inbound event: %s", exc)
        raise
    except ValidationError as exc:
        error = ProtocolError.from_validation_error(exc)
        logger.debug("rejected inbound event: %s", error)
        raise error from None
    except (ValueError, TypeError, RecursionError) as exc:  # a validator failed unexpectedly
        logger.debug("rejected inbound event", exc_info=True)
        raise ProtocolError(None, f"invalid event ({type(exc).__name__})") from None


def validate_interaction(raw: dict[str, Any]) -> Interaction:
    """Check an outbound message before it is sent.

    Only the documented interactions are valid, every field is checked, and the whole message
    must fit one app-message (MAX_APP_MESSAGE_BYTES as compact JSON).

    Args:
        raw: The message as a dict (JSON text or bytes are accepted too).

    Returns:
        The typed interaction; its ``to_message()`` is what to send.

    Raises:
        ProtocolError: The message is not a valid interaction. Nothing else is raised.
    """
    try:
        message = load_json_object(raw)
        event_type = message.get("event_type")
        if event_type is None:
            raise ProtocolError("event_type", "Field required")
        if not isinstance(event_type, str):
            raise ProtocolError("event_type", "Input should be a valid string")
        if event_type in UNDOCUMENTED_ALIASES:
            raise ProtocolError(
                "event_type",
                f"{_short(event_type)} is not documented by Tavus; "
                f"send {UNDOCUMENTED_ALIASES[event_type]!r} instead",
            )
        model = INTERACTION_TYPES.get(event_type)
        if model is None:
            known = ", ".join(sorted(INTERACTION_TYPES))
            raise ProtocolError(
                "event_type",
                f"{_short(event_type)} is not an interaction the app may send ({known})",
            )
        return model.model_validate(message)
    except ValidationError as exc:
        raise ProtocolError.from_validation_error(exc) from None
    except ProtocolError:
        raise
    except (ValueError, TypeError, RecursionError) as exc:  # a validator failed unexpectedly
        raise ProtocolError(None, f"invalid interaction ({type(exc).__name__})") from None


def _short(text: str, limit: int = 80) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "...")
