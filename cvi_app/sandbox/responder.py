"""The simulated replica's "LLM": deterministic rules, no model.

It answers from what it was told (the conversational context, which `overwrite` replaces and
`append` extends), asks for the persona's tools when a request matches one, and tells a long
story on demand so interrupts can be tried.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["LONG_STORY", "Reply", "Responder", "ToolRequest", "ToolSpec"]

LONG_STORY = (
    "Once upon a time, in a small harbour town at the edge of a grey and restless sea, there "
    "lived a lighthouse keeper who had never once seen the ships she guided home. Every night "
    "she climbed the hundred and twelve steps of the old tower, trimmed the wick, polished the "
    "great lens until it shone, and listened to the horns of the boats as they found their way "
    "through the fog. The townspeople said she knew every captain by the sound of his horn. One "
    "winter a storm came that lasted nine days, and on the ninth night the light went out. She "
    "carried a lantern to the top of the tower and held it in the wind until dawn, and in the "
    "morning forty boats lay safe in the harbour. That is the end of the story."
)

_STOPWORDS = frozenset(
    "a an and are can did do does for from have how i in is it me my of on or please tell "
    "that the this to was what when where which who why with you your".split()
)
_GREETING = re.compile(r"^\s*(hi|hello|hey|good (morning|afternoon|evening))\b", re.IGNORECASE)
_KNOWLEDGE = re.compile(
    r"what do you know|what have you been told|what'?s (in )?(the|your) context", re.IGNORECASE
)
_LONG = re.compile(r"\b(long (story|answer)|tell me a story)\b", re.IGNORECASE)
_NAME = re.compile(r"\b(who are you|your name)\b", re.IGNORECASE)
_WEATHER = re.compile(r"\bweather\b(?:.*?\b(?:in|for|at)\s+([A-Za-z][\w .'-]*))?", re.IGNORECASE)
_ORDER = re.compile(r"\border\s*(?:number\s*)?#?\s*([A-Za-z0-9-]+\d[A-Za-z0-9-]*)", re.IGNORECASE)
_WORD = re.compile(r"[a-z0-9']+")


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """A persona tool as the responder needs it: its name and JSON-schema parameters."""

    name: str
    parameters: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_openai(cls, tool: dict[str, Any]) -> ToolSpec | None:
        """Read an OpenAI-style `{"type": "function", "function": {...}}` tool (None if not one)."""
        function = tool.get("function") if isinstance(tool, dict) else None
        if not isinstance(function, dict) or not isinstance(function.get("name"), str):
            return None
        parameters = function.get("parameters")
        return cls(function["name"], parameters if isinstance(parameters, dict) else {})

    def first_parameter(self, *preferred: str) -> str | None:
        """The parameter to put a single value in: a preferred name, else the first required."""
        properties = self.parameters.get("properties")
        names = list(properties) if isinstance(properties, dict) else []
        for name in preferred:
            if name in names:
                return name
        required = self.parameters.get("required")
        if isinstance(required, list) and required and isinstance(required[0], str):
            return required[0]
        return names[0] if names else None


@dataclass(frozen=True, slots=True)
class ToolRequest:
    """The responder wants a tool called before it answers."""

    name: str
    arguments: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Reply:
    """What to do with a user turn: say `text`, or call `tool` first."""

    text: str = ""
    tool: ToolRequest | None = None


class Responder:
    """Deterministic answers for the simulated replica.

    Args:
        persona_name: How the replica introduces itself.
        context: The starting conversational context (persona context + conversation context).
        tools: The persona's tools; requests are only made for tools the persona has.
        greeting: The persona's default greeting, used when the conversation sets none.
    """

    def __init__(
        self,
        *,
        persona_name: str = "your sandbox replica",
        context: str = "",
        tools: Iterable[ToolSpec] = (),
        greeting: str | None = None,
    ) -> None:
        self.persona_name = persona_name
        self.context = context.strip()
        self.tools = {tool.name: tool for tool in tools}
        self._greeting = greeting

    def overwrite_context(self, context: str) -> None:
        """Replace everything the replica was told."""
        self.context = context.strip()

    def append_context(self, context: str) -> None:
        """Add to what the replica was told."""
        self.context = f"{self.context}\n{context.strip()}".strip()

    def greeting(self, custom_greeting: str | None = None) -> str:
        """The first thing the replica says: the conversation's greeting, else the persona's."""
        for candidate in (custom_greeting, self._greeting):
            if candidate and candidate.strip():
                return candidate.strip()
        return f"Hi, I'm {self.persona_name}. How can I help you today?"

    def reply(self, text: str) -> Reply:
        """Answer one finished user turn.

        Args:
            text: What the user said (or the `conversation.respond` text).

        Returns:
            The reply, or a tool request when the text asks for one of the persona's tools.
        """
        said = text.strip()
        if _KNOWLEDGE.search(said):
            if not self.context:
                return Reply("I haven't been told anything yet.")
            return Reply(f"Here is what I know: {_one_line(self.context)}")
        tool = self._tool_request(said)
        if tool is not None:
            return Reply(tool=tool)
        if _LONG.search(said):
            return Reply(LONG_STORY)
        if _GREETING.search(said):
            return Reply("Hello! It's good to hear from you. What would you like to talk about?")
        if _NAME.search(said):
            return Reply(f"I'm {self.persona_name}.")
        fact = self._relevant_fact(said)
        if fact is not None:
            return Reply(f"From what I know: {fact}")
        return Reply(f'You said: "{_one_line(said)}". Tell me more.')

    def after_tool(self, request: ToolRequest, output: str, *, ok: bool = True) -> str:
        """What to say once a tool answered (or failed).

        Args:
            request: The tool request that was made.
            output: The tool's output (any text; JSON objects are read out as key/value pairs).
            ok: False when the tool reported an error.
        """
        if not ok:
            return f"Sorry, {request.name} failed: {_one_line(_readable(output))}"
        return f"Here is what {request.name} returned: {_one_line(_readable(output))}"

    def tool_timed_out(self, request: ToolRequest) -> str:
        """What to say when a tool result never came."""
        return f"Sorry, I could not get the result of {request.name}."

    def _tool_request(self, said: str) -> ToolRequest | None:
        weather = _WEATHER.search(said)
        if weather and "get_weather" in self.tools:
            city = (weather.group(1) or "").strip(" .?!'") or "here"
            return self._request("get_weather", city, "city", "location")
        order = _ORDER.search(said)
        if order and "lookup_order" in self.tools:
            return self._request("lookup_order", order.group(1), "order_id", "order_number", "id")
        lowered = said.lower()
        for name in self.tools:
            if name.lower() in lowered or name.replace("_", " ").lower() in lowered:
                return ToolRequest(name, {})
        return None

    def _request(self, name: str, value: str, *preferred: str) -> ToolRequest:
        parameter = self.tools[name].first_parameter(*preferred) or preferred[0]
        return ToolRequest(name, {parameter: value})

    def _relevant_fact(self, said: str) -> str | None:
        asked = _keywords(said)
        if not asked or not self.context:
            return None
        best, best_score = None, 0
        for sentence in _sentences(self.context):
            score = len(asked & _keywords(sentence))
            if score > best_score:
                best, best_score = sentence, score
        return best


def _keywords(text: str) -> set[str]:
    return {
        word.removesuffix("'s")
        for word in _WORD.findall(text.lower())
        if word not in _STOPWORDS and len(word) > 2
    }


def _sentences(text: str) -> Sequence[str]:
    return [part.strip() for part in re.split(r"(?<=[.!?])\s+|\n+", text) if part.strip()]


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _readable(output: str) -> str:
    try:
        value = json.loads(output)
    except ValueError:
        return output
    if isinstance(value, dict):
        return ", ".join(f"{key}: {item}" for key, item in value.items()) or "nothing"
    return output
