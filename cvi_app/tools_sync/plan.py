"""What syncing the Python tools changes in one persona: the tools, in words, and the JSON Patch.

The persona's `layers.llm.tools` becomes: its tools in their order, each one a registered name
has replaced by the registry's definition (a later duplicate of that name dropped), the other
ones (names not registered: "kept, not a Python tool") left as they are, then the registered
tools it did not have, by name. The JSON Patch (RFC 6902) from the persona's document to that
one is computed by `jsonpatch`; it is empty when nothing changes.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import jsonpatch

from cvi_app.tavus.models import Persona

__all__ = ["PersonaPlan", "ToolChange", "layers_document", "plan_persona"]

Action = Literal["add", "update", "same", "keep", "drop"]


@dataclass(frozen=True)
class ToolChange:
    """What happens to one tool of the persona."""

    name: str
    action: Action
    detail: str = ""

    def describe(self) -> str:
        """The change in plain words, e.g. `update  get_weather (description, parameters)`."""
        words = {
            "add": f"add     {self.name}",
            "update": f"update  {self.name} ({self.detail})",
            "same": f"same    {self.name}",
            "keep": f"keep    {self.name} (kept, not a Python tool)",
            "drop": f"remove  {self.name} ({self.detail})",
        }
        return words[self.action]


@dataclass(frozen=True)
class PersonaPlan:
    """The change one persona needs so its LLM has the registry's tools."""

    persona_id: str
    persona_name: str
    changes: tuple[ToolChange, ...]
    tools: tuple[dict[str, Any], ...]
    """The persona's `layers.llm.tools` after the change."""
    patch: jsonpatch.JsonPatch

    @property
    def operations(self) -> list[dict[str, Any]]:
        """The JSON Patch as a list of operations (empty: already up to date)."""
        return list(self.patch.patch)

    @property
    def up_to_date(self) -> bool:
        """Whether the persona already has the registry's tools."""
        return not self.patch.patch

    def count(self, action: Action) -> int:
        """How many tools get this action."""
        return sum(1 for change in self.changes if change.action == action)


def layers_document(persona: Persona) -> dict[str, Any]:
    """The persona's `layers` as the API showed them, as the part of its document to patch.

    `{}` when the API sent no `layers`; `{"layers": None}` when it sent `null`.
    """
    if "layers" not in persona.model_fields_set:
        return {}
    if persona.layers is None:
        return {"layers": None}
    return {"layers": persona.layers.model_dump(mode="json", exclude_unset=True)}


def _tool_name(tool: Any) -> str | None:
    function = tool.get("function") if isinstance(tool, Mapping) else None
    name = function.get("name") if isinstance(function, Mapping) else None
    return name if isinstance(name, str) else None


def _what_differs(old: Mapping[str, Any], new: Mapping[str, Any]) -> str:
    found = old.get("function")
    old_fn: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
    new_fn: Mapping[str, Any] = new["function"]
    parts = [key for key in sorted(set(old_fn) | set(new_fn)) if old_fn.get(key) != new_fn.get(key)]
    if any(old.get(key) != new.get(key) for key in set(old) | set(new) if key != "function"):
        parts.insert(0, "type")
    return ", ".join(parts) or "layout"


def plan_persona(
    persona_id: str,
    persona_name: str,
    document: Mapping[str, Any],
    definitions: Sequence[Mapping[str, Any]],
) -> PersonaPlan:
    """The change that gives the persona the registry's tools, keeping its other tools.

    Args:
        persona_id: Which persona.
        persona_name: Its name, for the output.
        document: The part of the persona's document holding `layers` (`layers_document`).
        definitions: The registry's OpenAI-style definitions (`ToolRegistry.openai_schemas`).
    """
    current = copy.deepcopy(dict(document))
    layers = current.get("layers")
    llm = layers.get("llm") if isinstance(layers, dict) else None
    existing = llm.get("tools") if isinstance(llm, dict) else None
    old_tools: list[Any] = existing if isinstance(existing, list) else []

    owned = {str(d["function"]["name"]): copy.deepcopy(dict(d)) for d in definitions}
    tools: list[Any] = []
    changes: list[ToolChange] = []
    placed: set[str] = set()
    for tool in old_tools:
        name = _tool_name(tool)
        if name is None or name not in owned:
            tools.append(tool)
            changes.append(ToolChange(name or "(unnamed tool)", "keep"))
        elif name in placed:
            changes.append(ToolChange(name, "drop", "a second tool of the same name"))
        else:
            placed.add(name)
            tools.append(owned[name])
            same = tool == owned[name]
            detail = "" if same else _what_differs(tool, owned[name])
            changes.append(ToolChange(name, "same" if same else "update", detail))
    for name in sorted(set(owned) - placed):
        tools.append(owned[name])
        changes.append(ToolChange(name, "add"))

    desired = copy.deepcopy(current)
    if tools != old_tools:
        new_layers = desired.get("layers")
        if not isinstance(new_layers, dict):
            new_layers = desired["layers"] = {}
        new_llm = new_layers.get("llm")
        if not isinstance(new_llm, dict):
            new_llm = new_layers["llm"] = {}
        new_llm["tools"] = tools
    patch = jsonpatch.make_patch(current, desired)
    return PersonaPlan(
        persona_id=persona_id,
        persona_name=persona_name,
        changes=tuple(changes),
        tools=tuple(tools),
        patch=patch,
    )
