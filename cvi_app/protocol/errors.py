"""The exceptions the protocol layer raises on bad input, and the translation into them.

`ProtocolError` is the one exception raised; `MessageTooLarge` is the kind a caller may want to
tell apart (a message over the app-message size limit).
"""

from __future__ import annotations

from pydantic import ValidationError

__all__ = ["MessageTooLarge", "ProtocolError"]

# Pydantic prefixes messages of errors raised inside validators; the prefix says nothing useful.
_PYDANTIC_PREFIXES = ("Value error, ", "Assertion failed, ")


class ProtocolError(ValueError):
    """A message does not follow the Tavus Interactions Protocol.

    Attributes:
        field: Dotted path of the offending field (e.g. ``properties.speech``), or None when the
            problem is the message as a whole.
        reason: What is wrong, in words a developer can act on.
    """

    def __init__(self, field: str | None, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}" if field else reason)

    @classmethod
    def from_validation_error(cls, exc: ValidationError, *, prefix: str = "") -> ProtocolError:
        """Summarise a pydantic ValidationError, naming the first offending field.

        Args:
            exc: The error pydantic raised.
            prefix: Dotted path to prepend to every location (for nested validation).

        Returns:
            A ProtocolError whose field is the first error's location and whose reason is its
            message, followed by how many other problems there were; or, when the one problem
            is a ProtocolError a validator raised (a `MessageTooLarge`), that error itself.
        """
        errors = exc.errors(include_url=False, include_input=False)
        if not errors:  # pragma: no cover - pydantic always reports at least one
            return cls(prefix or None, "invalid message")
        first = errors[0]
        raised = first.get("ctx", {}).get("error")
        if len(errors) == 1 and isinstance(raised, ProtocolError):
            return raised
        parts = [prefix] if prefix else []
        parts.extend(str(part) for part in first["loc"])
        reason = str(first["msg"])
        for noise in _PYDANTIC_PREFIXES:
            if reason.startswith(noise):
                reason = reason[len(noise) :]
        if len(errors) > 1:
            others = len(errors) - 1
            reason += f" (and {others} other problem{'s' if others > 1 else ''})"
        return cls(".".join(parts) or None, reason)


class MessageTooLarge(ProtocolError):
    """An outbound message does not fit one app-message: it is too big as compact JSON.

    Attributes:
        size: The message's size in bytes, as compact JSON.
        limit: The most one app-message may take, in bytes.
    """

    def __init__(self, size: int, limit: int) -> None:
        self.size = size
        self.limit = limit
        super().__init__(
            None,
            f"message is {size} bytes as JSON, over Daily's {limit}-byte app-message limit "
            "(split long echoes with split_echo_text/split_echo_audio)",
        )
