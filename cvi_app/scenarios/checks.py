"""A turn's expectations against what the replica did, each failure as a plain sentence."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from cvi_app.scenarios.models import EndExpectation, ToolExpectation, TurnExpectation
from cvi_app.scenarios.results import ToolSeen, quoted

__all__ = ["Observed", "arguments_match", "check_end", "check_turn"]


@dataclass
class Observed:
    """What came back for one turn, within its wait."""

    timeout: float
    reply: str = ""
    tools: list[ToolSeen] = field(default_factory=list)
    latency_s: float | None = None
    answered: bool = False
    """The replica started speaking (or said something) after the turn was sent."""
    ended: str | None = None
    """The conversation ended during the turn, for this reason."""


def arguments_match(actual: Any, expected: Any) -> bool:
    """Whether `actual` holds `expected`: every key of a mapping (recursively), the rest equal.

    Lists must match item by item; `true` is not `1`; `1` and `1.0` are the same number.
    """
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(
            key in actual and arguments_match(actual[key], value) for key, value in expected.items()
        )
    if isinstance(expected, list):
        return (
            isinstance(actual, list)
            and len(actual) == len(expected)
            and all(arguments_match(a, e) for a, e in zip(actual, expected, strict=True))
        )
    if isinstance(expected, bool) or isinstance(actual, bool):
        return type(actual) is type(expected) and actual == expected
    return bool(actual == expected)


def _shown(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    return text if len(text) <= 200 else text[:199] + "…"


def _tool_failure(expected: ToolExpectation, calls: list[ToolSeen]) -> str | None:
    named = [call for call in calls if call.name == expected.name]
    if any(arguments_match(call.arguments, expected.arguments) for call in named):
        return None
    if not named:
        others = sorted({call.name for call in calls})
        also = f" (the replica called {', '.join(others)})" if others else ""
        return f"{expected.name} was not called{also}"
    given = "; ".join(_shown(call.arguments) for call in named[:3])
    return f"{expected.name} was called with {given}, not with {_shown(expected.arguments)}"


def _words(words: list[str]) -> str:
    shown = [f"'{word}'" for word in words]
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]


def check_turn(expect: TurnExpectation, seen: Observed) -> list[str]:
    """Every expectation of the turn the replica did not meet, as a sentence (empty: passed)."""
    failures: list[str] = []
    if not seen.answered:
        if seen.ended is not None:
            failures.append(
                f"the conversation ended before the replica answered ({quoted(seen.ended, 120)})"
            )
        else:
            failures.append(f"the replica did not answer within {seen.timeout:g} s")
    for tool in expect.tool_called:
        failure = _tool_failure(tool, seen.tools)
        if failure is not None:
            failures.append(failure)
    if not seen.answered:
        return failures
    lowered = seen.reply.lower()
    missing = [word for word in expect.reply_contains if word.lower() not in lowered]
    if missing:
        said = f"it said: {quoted(seen.reply)}" if seen.reply.strip() else "it said nothing"
        failures.append(f"expected the reply to contain {_words(missing)}, {said}")
    bound = expect.latency_under
    if bound is not None and seen.latency_s is not None and seen.latency_s > bound:
        failures.append(f"latency {seen.latency_s:.2f} s over the {bound:g} s bound")
    elif bound is not None and seen.latency_s is None:
        failures.append(f"the replica never started speaking, so the {bound:g} s bound is not met")
    return failures


def check_end(
    expect: EndExpectation, *, reason: str | None, ended_by_itself: bool, hung_up: bool
) -> list[str]:
    """How the conversation ended against `expect` (empty: as expected)."""
    failures: list[str] = []
    if expect.by == "timeout" and not ended_by_itself:
        failures.append(f"the conversation did not end by itself within {expect.within:g} s")
        return failures
    if expect.by == "hang_up" and not hung_up:
        failures.append(
            "the conversation ended before the runner hung up"
            + (f" ({quoted(reason, 120)})" if reason else "")
        )
        return failures
    if expect.reason is not None and expect.reason.lower() not in (reason or "").lower():
        was = quoted(reason, 120) if reason else "not given"
        failures.append(f"expected the end reason to contain '{expect.reason}', it was {was}")
    return failures
