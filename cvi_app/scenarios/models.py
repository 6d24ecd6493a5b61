"""What a scenario file holds, checked by pydantic models.

A persona, an optional greeting and context, the user's turns with what each must bring, and
how the conversation is to end.

Every model refuses fields it does not know, so a misspelt expectation is an error that names
it rather than a check silently left out.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = ["EndExpectation", "Scenario", "ToolExpectation", "Turn", "TurnExpectation"]

MAX_TURNS = 200
MAX_SECONDS = 600.0


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _one_or_many(value: Any) -> Any:
    """Let a field that takes a list be given one item on its own."""
    if value is None:
        return []
    if isinstance(value, str | dict):
        return [value]
    return value


class ToolExpectation(_Strict):
    """A tool the replica must call in the turn, with at least these arguments."""

    name: str = Field(min_length=1, max_length=100)
    arguments: dict[str, Any] = Field(
        default_factory=dict,
        description="Arguments the call must have (others may come too); nested objects the same.",
    )


class TurnExpectation(_Strict):
    """What a turn must bring; each is checked on its own and reported with its reason."""

    tool_called: list[ToolExpectation] = Field(default_factory=list, max_length=20)
    """One tool (a mapping) or several (a list), each called with at least its arguments."""
    reply_contains: list[str] = Field(default_factory=list, max_length=50)
    """Words the replica's reply must all contain, in any case (one string or a list)."""
    latency_under: float | None = Field(default=None, gt=0, le=MAX_SECONDS)
    """Seconds from the turn being sent to the replica starting to speak."""

    @field_validator("tool_called", "reply_contains", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        return _one_or_many(value)

    @field_validator("reply_contains")
    @classmethod
    def _words(cls, value: list[str]) -> list[str]:
        words = [word.strip() for word in value]
        if any(not word for word in words):
            raise ValueError("an empty word cannot be looked for")
        if any(len(word) > 500 for word in words):
            raise ValueError("a word to look for is at most 500 characters")
        return words


class Turn(_Strict):
    """One user turn, sent as `conversation.respond`."""

    say: str = Field(min_length=1, max_length=4000)
    timeout: float | None = Field(default=None, gt=0, le=MAX_SECONDS)
    """Seconds to wait for the reply (default: the scenario's `turn_timeout`)."""
    expect: TurnExpectation = Field(default_factory=TurnExpectation)

    @field_validator("say")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("a turn must say something")
        return value


class EndExpectation(_Strict):
    """How the conversation ends after the last turn."""

    by: Literal["hang_up", "timeout"] = "hang_up"
    """`hang_up`: the runner ends it; `timeout`: it must end by itself (a time limit)."""
    reason: str | None = Field(default=None, min_length=1, max_length=200)
    """Words the end reason must contain, in any case (e.g. `max_call_duration`)."""
    within: float = Field(default=60.0, gt=0, le=24 * 3600)
    """With `by: timeout`: seconds after the last turn it may take to end."""


class Scenario(_Strict):
    """A scripted conversation and what each of its turns must bring."""

    name: str = Field(default="", max_length=200)
    """Shown in reports (default: the file's name)."""
    persona: str = Field(min_length=1, max_length=200)
    """The persona's id or name."""
    replica: str | None = Field(default=None, min_length=1, max_length=200)
    """A replica's id or name (default: the persona's own)."""
    greeting: str = Field(default="", max_length=2000)
    context: str = Field(default="", max_length=20_000)
    max_call_duration: int | None = Field(default=None, ge=10, le=24 * 3600)
    """Seconds the conversation may last (for a scenario that expects the time limit)."""
    turn_timeout: float = Field(default=15.0, gt=0, le=MAX_SECONDS)
    """Seconds each turn may wait for its reply, unless the turn says otherwise."""
    turns: list[Turn] = Field(min_length=1, max_length=MAX_TURNS)
    end: EndExpectation = Field(default_factory=EndExpectation)

    def title(self, fallback: str) -> str:
        """The name reports use."""
        return self.name.strip() or fallback


FIELD_NAMES = sorted(
    {
        name
        for model in (Scenario, Turn, TurnExpectation, ToolExpectation, EndExpectation)
        for name in model.model_fields
    }
)
"""Every field a scenario file may have anywhere, for suggestions on a misspelt one."""
