"""The simulated replica's "LLM": deterministic rules, no model.

It answers from what it was told (the persona's and the conversation's context, which
`overwrite` replaces and `append` extends) and from what the user said earlier in the
conversation (their name, facts they stated), asks for the persona's tools when a request
matches one, and tells a long story on demand so interrupts can be tried. Anything else gets a
short answer saying what it heard and what it knows, so a developer sees the context at work.
"""

from __future__ import annotations

import json
import re
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["LONG_STORY", "SANDBOX_SIMULATES", "Reply", "Responder", "ToolRequest", "ToolSpec"]

SANDBOX_SIMULATES = (
    "This is the sandbox's simulated replica: no video or voice, and nothing is sent to Tavus. "
    "It follows the Interactions Protocol with fixed rules, or with a model the persona's "
    'layers.llm names: it answers from its context and from what you tell it (try "My name is '
    'Sam", then "What is my name?"), calls the persona\'s tools, and speaks echoes as captions. '
    "It does not hear your microphone or see your camera; set TAVUS_API_KEY to talk to a real "
    "Tavus replica."
)
"""What the sandbox simulates and what it does not, in plain sentences for the room to show."""

MAX_REMEMBERED_TURNS = 50
"""User turns the responder keeps to answer from (older ones are forgotten)."""
MAX_CONTEXT_CHARS = 128_000
"""Context kept (the oldest is dropped past it): what a Tavus-hosted LLM would take."""
_SHOWN_CHARS = 300
"""How much of the context or of a fact one answer reads out."""

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
_ASKS_MY_NAME = re.compile(
    r"\b(what'?s|what is|do you know|tell me|say|remember)\b.*\bmy name\b|\bwho am i\b",
    re.IGNORECASE,
)
# A name: a word, and a second one when it is capitalised ("Sam", "sam", "Sam Lee").
_A_NAME = r"([A-Za-z][\w'-]{0,39})(?:\s+([A-Z][\w'-]{0,39}))?"
_SAYS_NAME = re.compile(r"(?i:\b(?:my name is|call me|i am called|i'm called))\s+" + _A_NAME)
_TOLD_NAME = (
    re.compile(r"(?i:\b(?:the )?user'?s name is|\bname:)\s*" + _A_NAME),
    # Third person in context needs a capitalised name: "The user is Sam", not "... is happy".
    re.compile(r"(?i:\bthe user is (?:called |named )?)([A-Z][\w'-]{0,39})"),
    re.compile(r"(?i:\byou(?: are|'re) (?:talking|speaking) (?:with|to) )([A-Z][\w'-]{0,39})"),
)
_NOT_NAMES = frozenset("a an the not what unknown your my is".split())
_REMEMBER = re.compile(r"^\s*(?:please\s+)?remember(?:\s+that)?\s+(.+)$", re.IGNORECASE)
_FLIP = {
    "i": "you",
    "me": "you",
    "my": "your",
    "mine": "yours",
    "myself": "yourself",
    "i'm": "you're",
    "am": "are",
    "i've": "you've",
    "i'll": "you'll",
    "i'd": "you'd",
}
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
        self.context = _bounded(context.strip())
        self.tools = {tool.name: tool for tool in tools}
        self._greeting = greeting
        self._heard: deque[str] = deque(maxlen=MAX_REMEMBERED_TURNS)
        self._heard_before_context = 0  # user turns heard when the context was last set

    def overwrite_context(self, context: str) -> None:
        """Replace everything the replica was told (what the user said stays heard)."""
        self.context = _bounded(context.strip())
        self._heard_before_context = len(self._heard)

    def append_context(self, context: str) -> None:
        """Add to what the replica was told."""
        self.context = _bounded(f"{self.context}\n{context.strip()}".strip())
        self._heard_before_context = len(self._heard)

    def hear(self, text: str) -> None:
        """Remember a user turn without answering it (one cut short before the answer)."""
        if len(self._heard) == MAX_REMEMBERED_TURNS:
            self._heard_before_context = max(self._heard_before_context - 1, 0)
        self._heard.append(_one_line(text))

    @property
    def user_name(self) -> str | None:
        """The user's name as last given, or None.

        What the user said since the context last changed comes first, then the context, then
        what the user said before that.
        """
        heard = list(self._heard)
        cut = min(self._heard_before_context, len(heard))
        for said in reversed(heard[cut:]):
            name = _name_in(said, (_SAYS_NAME,))
            if name is not None:
                return name
        for sentence in reversed(_sentences(self.context)):
            name = _name_in(sentence, (_SAYS_NAME, *_TOLD_NAME))
            if name is not None:
                return name
        for said in reversed(heard[:cut]):
            name = _name_in(said, (_SAYS_NAME,))
            if name is not None:
                return name
        return None

    def greeting(self, custom_greeting: str | None = None) -> str:
        """The first thing the replica says: the conversation's greeting, else the persona's."""
        for candidate in (custom_greeting, self._greeting):
            if candidate and candidate.strip():
                return candidate.strip()
        return f"Hi, I'm {self.persona_name}. How can I help you today?"

    def reply(self, text: str) -> Reply:
        """Answer one finished user turn, and remember it for the turns after.

        Args:
            text: What the user said (or the `conversation.respond` text).

        Returns:
            The reply, or a tool request when the text asks for one of the persona's tools.
        """
        said = _one_line(text)
        earlier = list(self._heard)
        self.hear(said)
        if _KNOWLEDGE.search(said):
            return Reply(self._what_i_know(earlier))
        tool = self._tool_request(said)
        if tool is not None:
            return Reply(tool=tool)
        if _LONG.search(said):
            return Reply(LONG_STORY)
        if _ASKS_MY_NAME.search(said):
            return Reply(self._your_name())
        stated = _name_in(said, (_SAYS_NAME,))
        if stated is not None:
            return Reply(f"Nice to meet you, {stated}. I'll remember your name.")
        remember = _REMEMBER.match(said)
        if remember:
            return Reply(f"Got it. I'll remember that {_flipped(remember.group(1))}.")
        if _GREETING.search(said):
            name = self.user_name
            hello = f"Hello, {name}!" if name else "Hello!"
            return Reply(f"{hello} It's good to hear from you. What would you like to talk about?")
        if _NAME.search(said):
            return Reply(f"I'm {self.persona_name}.")
        fact = self._relevant_fact(said, earlier)
        if fact is not None:
            return Reply(fact)
        heard = _shown(said).rstrip(".!")
        return Reply(f'You said: "{heard}". {self._what_i_know(earlier, brief=True)}')

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

    def _your_name(self) -> str:
        name = self.user_name
        if name is None:
            return 'I don\'t know your name yet. Tell me: "My name is ..."'
        return f"Your name is {name}."

    def _what_i_know(self, earlier: Sequence[str], *, brief: bool = False) -> str:
        told = _told(earlier)
        if brief:
            if self.context:
                return f"What I know: {_shown(self.context)}"
            if told:
                return f"You told me: {told[-1]}."
            return "I haven't been told anything else yet."
        parts = []
        if self.context:
            parts.append(f"Here is what I know: {_shown(self.context)}")
        if told:
            parts.append(f"You told me: {_shown('; '.join(told[-3:]))}.")
        return " ".join(parts) or "I haven't been told anything yet."

    def _relevant_fact(self, said: str, earlier: Sequence[str]) -> str | None:
        """The context sentence or earlier statement sharing the most keywords with `said`."""
        asked = _keywords(said)
        if not asked:
            return None
        candidates = [f"From what I know: {_shown(s)}" for s in _sentences(self.context)]
        candidates += [f"You told me: {told}." for told in _told(earlier)]
        best, best_score = None, 0
        for candidate in candidates:
            score = len(asked & _keywords(candidate.split(": ", 1)[1]))
            if score > best_score:
                best, best_score = candidate, score
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


def _shown(text: str) -> str:
    """One line of `text`, cut to what one answer reads out."""
    line = _one_line(text)
    return line if len(line) <= _SHOWN_CHARS else line[: _SHOWN_CHARS - 1].rstrip() + "…"


def _bounded(context: str) -> str:
    return context[-MAX_CONTEXT_CHARS:]


def _told(earlier: Sequence[str]) -> list[str]:
    """What the user stated in earlier turns (not questions), from the replica's side."""
    told = []
    for said in earlier:
        if said.endswith("?") or not _keywords(said):
            continue
        remember = _REMEMBER.match(said)
        told.append(_flipped(remember.group(1) if remember else said))
    return told


def _name_in(text: str, patterns: Iterable[re.Pattern[str]]) -> str | None:
    for pattern in patterns:
        match = pattern.search(text)
        if match is None:
            continue
        words = [w.strip(".,!?;:'\"") for w in match.groups() if w]
        words = [w for w in words if w and w.lower() not in _NOT_NAMES]
        if words:
            return " ".join(w[:1].upper() + w[1:] for w in words)
    return None


def _flipped(text: str) -> str:
    """The user's words from the replica's side ("my name" becomes "your name"), no end stop."""
    words = []
    for word in _one_line(text).rstrip(".!").split(" "):
        bare = word.lower().strip(",;:")
        swap = _FLIP.get(bare)
        words.append(word.lower().replace(bare, swap, 1) if swap else word)
    line = _shown(" ".join(words))
    # Lower the first letter of a sentence ("Remember..."), never of a name or acronym ("I", "AI").
    if len(line) > 1 and line[0].isupper() and line[1].islower():
        line = line[0].lower() + line[1:]
    return line


def _readable(output: str) -> str:
    try:
        value = json.loads(output)
    except ValueError:
        return output
    if isinstance(value, dict):
        return ", ".join(f"{key}: {item}" for key, item in value.items()) or "nothing"
    return output
