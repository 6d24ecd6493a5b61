"""Sync the Python tools into personas: read each one, say what changes, then (if asked) patch it.

Everything is written before anything is sent: the changes in words and the JSON Patch, per
persona. API failures are plain sentences; a refused key or an API that does not answer stops
the run (every other persona would fail the same way), anything else stops one persona only.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from cvi_app.tavus import TavusClient
from cvi_app.tavus.errors import (
    TavusAPIError,
    TavusAuthError,
    TavusError,
    TavusNotFoundError,
    TavusRateLimitError,
    TavusServerError,
    TavusTimeoutError,
    TavusTransportError,
    TavusValidationError,
)
from cvi_app.tavus.models import Persona
from cvi_app.tools_sync.plan import PersonaPlan, layers_document, plan_persona

__all__ = ["CATALOG_LIMIT", "EXIT_FAILED", "EXIT_OK", "Target", "sync_tools"]

EXIT_OK = 0
EXIT_FAILED = 1
"""Some persona could not be read or changed (or the API could not be used at all)."""

CATALOG_LIMIT = 100
"""Personas read from the API's list when none are named: the first page the app's catalog
shows (`cvi_app.state.catalog.MAX_CHOICES`)."""


@dataclass(frozen=True)
class Target:
    """The API being synced, to say in errors which setting to look at."""

    mode: str
    api_base: str
    key_setting: str
    """The variable holding the key sent (`TAVUS_API_KEY` or `CVI_SANDBOX_API_KEY`)."""


class _Stop(Exception):
    """The API cannot be used at all: no point trying the other personas."""


def _plain(exc: TavusError, target: Target, *, doing: str) -> tuple[str, bool]:
    """An API failure in plain words, and whether it stops the whole run."""
    if isinstance(exc, TavusAuthError):
        where = (
            "the key Tavus gave you"
            if target.mode == "tavus"
            else "the key the app's sandbox accepts (the app and this command need the same one)"
        )
        return (
            f"the API refused the key (HTTP {exc.status_code}): set {target.key_setting} to {where}.",
            True,
        )
    if isinstance(exc, TavusTransportError | TavusTimeoutError):
        hint = (
            " In sandbox mode the app serves this API: start it (make run), or point "
            "CVI_PUBLIC_URL (or CVI_SANDBOX_URL) at where it runs."
            if target.mode == "sandbox"
            else ""
        )
        return f"the API at {target.api_base} did not answer ({exc}).{hint}", True
    if isinstance(exc, TavusNotFoundError):
        return "not found: the API knows no persona with this id.", False
    if isinstance(exc, TavusRateLimitError):
        return f"the API asked to slow down (HTTP 429): {exc.message}", True
    if isinstance(exc, TavusServerError):
        return f"the API failed on its side (HTTP {exc.status_code}): {exc.message}", False
    if isinstance(exc, TavusValidationError):
        return f"the API refused {doing} (HTTP {exc.status_code}): {exc.message}", False
    if isinstance(exc, TavusAPIError):
        return f"the API answered HTTP {exc.status_code} to {doing}: {exc.message}", False
    return f"{doing} failed: {exc}", False


def _title(persona: Persona | None, persona_id: str) -> str:
    name = persona.persona_name if persona is not None else None
    return f'Persona "{name}" ({persona_id})' if name else f"Persona {persona_id}"


def _patch_lines(operations: list[dict[str, Any]]) -> list[str]:
    """The patch as JSON, one operation a line (as sent: the keys in their order)."""
    ops = [json.dumps(op, ensure_ascii=False) for op in operations]
    return ["    [", *(f"      {op}," for op in ops[:-1]), f"      {ops[-1]}", "    ]"]


def _tools_of(persona: Persona) -> list[dict[str, Any]]:
    return [tool.model_dump(mode="json", exclude_unset=True) for tool in persona.tools]


class _Run:
    def __init__(
        self,
        client: TavusClient,
        definitions: Sequence[Mapping[str, Any]],
        *,
        apply: bool,
        target: Target,
        out: TextIO,
    ) -> None:
        self.client = client
        self.definitions = definitions
        self.apply = apply
        self.target = target
        self.out = out
        self.changed = self.current = self.failed = 0

    def say(self, line: str = "") -> None:
        self.out.write(line + "\n")
        self.out.flush()

    def fail(self, title: str, exc: TavusError, *, doing: str) -> None:
        words, stop = _plain(exc, self.target, doing=doing)
        self.failed += 1
        self.say(f"{title}: {words}")
        if stop:
            raise _Stop from exc

    async def chosen(self, persona_ids: Sequence[str]) -> list[str]:
        """The personas to sync: those named, else the catalog's own (not stock) ones."""
        if persona_ids:
            return list(dict.fromkeys(persona_ids))
        try:
            listed = await self.client.list_personas(limit=CATALOG_LIMIT)
        except TavusError as exc:
            self.fail("Listing the personas", exc, doing="listing the personas")
            return []
        stock = [p for p in listed.data if p.persona_type == "system"]
        own = [p.persona_id for p in listed.data if p.persona_type != "system"]
        if stock:
            shown = [_title(p, p.persona_id).removeprefix("Persona ") for p in stock[:5]]
            more = f" and {len(stock) - 5} more" if len(stock) > 5 else ""
            names = ", ".join(shown) + more
            self.say(f"Skipped {len(stock)} stock persona(s), which cannot be changed: {names}.")
        if not own:
            self.say(
                "No persona of your own to sync: create one (the stock ones cannot be changed), "
                "or name one with --persona ID."
            )
        if stock or not own:
            self.say()
        return own

    async def persona(self, persona_id: str) -> None:
        title = _title(None, persona_id)
        try:
            persona = await self.client.get_persona(persona_id)
        except TavusError as exc:
            self.fail(title, exc, doing="reading the persona")
            return
        title = _title(persona, persona_id)
        if persona.persona_type == "system":
            self.failed += 1
            self.say(f"{title}: a stock persona, which cannot be changed (use one of your own).")
            return
        plan = plan_persona(
            persona_id, persona.persona_name or "", layers_document(persona), self.definitions
        )
        if plan.up_to_date:
            self.current += 1
            kept = plan.count("keep")
            also = f", {kept} other tool(s) kept" if kept else ""
            self.say(f"{title}: already up to date ({len(self.definitions)} Python tools{also}).")
            return
        self.say(f"{title}:")
        for change in plan.changes:
            self.say(f"  {change.describe()}")
        ops = plan.operations
        self.say(f"  JSON Patch ({len(ops)} operation{'s' if len(ops) != 1 else ''}):")
        for line in _patch_lines(ops):
            self.say(line)
        if not self.apply:
            self.changed += 1
            return
        await self.send(title, plan)

    async def send(self, title: str, plan: PersonaPlan) -> None:
        try:
            updated = await self.client.update_persona(plan.persona_id, plan.operations)
        except TavusError as exc:
            self.fail(f"  Not applied to {title}", exc, doing="the change")
            return
        self.changed += 1
        tools = _tools_of(updated)
        if tools == list(plan.tools):
            self.say(f"  Applied: its LLM now has {len(tools)} tool(s).")
        else:
            self.say(
                f"  Applied, but the API now shows {len(tools)} tool(s) that differ from what "
                "was sent: run again to see how."
            )

    def summary(self) -> None:
        persona_s = "persona" if self.changed == 1 else "personas"
        up = f"; {self.current} already up to date" if self.current else ""
        if self.apply:
            line = f"Applied to {self.changed} {persona_s}{up}."
        else:
            line = f"Dry run: {self.changed} {persona_s} would change{up}. Nothing was sent" + (
                ": run again with --apply (or make sync-tools) to send the changes."
                if self.changed
                else "."
            )
        if self.failed:
            line += f" {self.failed} could not be synced (see above)."
        self.say(line)


async def sync_tools(
    client: TavusClient,
    definitions: Sequence[Mapping[str, Any]],
    *,
    persona_ids: Sequence[str] = (),
    apply: bool = False,
    target: Target,
    out: TextIO,
) -> int:
    """Give each persona's LLM the registry's tools (`definitions`), keeping its other tools.

    Args:
        client: The API (Tavus's, or the sandbox's).
        definitions: `ToolRegistry.openai_schemas()`.
        persona_ids: The personas to sync; none: the catalog's personas that are not stock.
        apply: Send each change; without it, only say what would change.
        target: The API's mode, base URL and key setting, for plain-words errors.
        out: Where to write what happens.

    Returns:
        `EXIT_OK`, or `EXIT_FAILED` when some persona could not be read or changed.
    """
    run = _Run(client, definitions, apply=apply, target=target, out=out)
    names = ", ".join(str(d["function"]["name"]) for d in definitions)
    run.say(f"Python tools ({len(definitions)}): {names}")
    run.say(f"API: {target.mode} mode, {target.api_base}")
    if target.mode == "sandbox":
        run.say("(The sandbox keeps personas in memory: sync again after it restarts.)")
    run.say()
    try:
        for persona_id in await run.chosen(persona_ids):
            await run.persona(persona_id)
            run.say()
    except _Stop:
        run.say("Stopped: nothing more was tried.")
        return EXIT_FAILED
    run.summary()
    return EXIT_FAILED if run.failed else EXIT_OK
