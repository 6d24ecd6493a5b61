"""Entry points for untrusted messages: parse inbound events, validate outbound interactions."""

from __future__ import annotations

from typing import Any

from .errors import ProtocolError
from .events import EVENT_TYPES, Event, GenericEvent
from .interactions import INTERACTION_TYPES, UNDOCUMENTED_ALIASES, Interaction
from .raw import validate_message

__all__ = ["parse_event", "validate_interaction"]


def parse_event(raw: str | bytes | dict[str, Any]) -> Event:
    """Parse one inbound app-message into its typed event.

    There is no size limit on what is received. An unknown ``event_type`` gives a
    :class:`GenericEvent` (forward compatibility).

    Args:
        raw: JSON text, UTF-8 bytes of JSON text, or an already decoded dict (which is copied,
            so the event shares nothing with it).

    Returns:
        The event, as the model registered for its type in EVENT_TYPES.

    Raises:
        ProtocolError: Not a JSON object, no string ``event_type``, a required field missing or
            a known field of the wrong type. Nothing else is raised.
    """
    return validate_message(raw, _event_model, what="inbound event")


def validate_interaction(raw: dict[str, Any]) -> Interaction:
    """Check an outbound message before it is sent.

    Only the documented interactions are valid, every field is checked, and the whole message
    must fit one app-message (MAX_APP_MESSAGE_BYTES as compact JSON).

    Args:
        raw: The message as a dict (JSON text or bytes are accepted too).

    Returns:
        The typed interaction; its ``to_message()`` (or ``to_json()``) is what to send.

    Raises:
        ProtocolError: The message is not a valid interaction. Nothing else is raised.
    """
    return validate_message(raw, _interaction_model, what="interaction")


def _event_model(event_type: str) -> type[Event]:
    return EVENT_TYPES.get(event_type, GenericEvent)


def _interaction_model(event_type: str) -> type[Interaction]:
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
    return model


def _short(text: str, limit: int = 80) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "...")
