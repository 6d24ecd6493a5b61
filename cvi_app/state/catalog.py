"""Persona and replica names from the API (the sandbox's or Tavus's), for pages showing ids.

The store keeps a conversation's persona and replica ids, not their names: pages look the names
up here. The lists are read through the API client and kept for a minute, so paging through the
history does not ask the API each time; a name the API no longer knows shows as its id.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime

from cvi_app.live.manager import get_manager

logger = logging.getLogger(__name__)

CACHE_SECONDS = 60.0
MAX_CHOICES = 100
"""At most this many personas and replicas are shown."""
MAX_NAME = 120
"""Longer names are cut with an ellipsis."""
UNNAMED_BY_API = "New Conversation"
"""The name the sandbox gives a conversation started without one."""


def shown_name(name: str) -> str:
    """A name as the pages show it: whole, or cut with an ellipsis."""
    return name if len(name) <= MAX_NAME else name[: MAX_NAME - 1] + "…"


@dataclass(frozen=True)
class Catalog:
    """Names by id, in the API's order, and each persona's default replica."""

    personas: dict[str, str] = field(default_factory=dict)
    replicas: dict[str, str] = field(default_factory=dict)
    default_replicas: dict[str, str] = field(default_factory=dict)

    def persona(self, persona_id: str | None) -> str:
        """The persona's name, else its id ("" for none)."""
        return self.personas.get(persona_id or "", persona_id or "")

    def replica(self, replica_id: str | None) -> str:
        """The replica's name, else its id ("" for none)."""
        return self.replicas.get(replica_id or "", replica_id or "")


_cached: tuple[float, Catalog] | None = None


async def fetch_catalog() -> Catalog:
    """Read the catalog from the API now (and remember it); API errors propagate."""
    global _cached
    personas, replicas = await get_manager().catalog()
    catalog = Catalog(
        personas={
            p.persona_id: shown_name(p.persona_name or p.persona_id) for p in personas[:MAX_CHOICES]
        },
        replicas={
            r.replica_id: shown_name(r.replica_name or r.replica_id) for r in replicas[:MAX_CHOICES]
        },
        default_replicas={
            p.persona_id: p.default_replica_id
            for p in personas[:MAX_CHOICES]
            if p.default_replica_id
        },
    )
    _cached = (time.monotonic(), catalog)
    return catalog


async def cached_catalog() -> Catalog:
    """The catalog read at most a minute ago; when the API cannot answer, the last one known."""
    if _cached is not None and time.monotonic() - _cached[0] < CACHE_SECONDS:
        return _cached[1]
    try:
        return await fetch_catalog()
    except Exception as exc:
        logger.warning("catalog: reading personas and replicas failed: %s", exc)
        return _cached[1] if _cached is not None else Catalog()


def conversation_title(name: str, *, replica: str, created: datetime | None) -> str:
    """The conversation's name, or for an unnamed one "Conversation with <replica>, <date>".

    The sandbox names an unnamed conversation "New Conversation", which says nothing: it counts
    as unnamed too.
    """
    if name.strip() and name != UNNAMED_BY_API:
        return name
    with_whom = f"Conversation with {replica}" if replica else "Conversation"
    return f"{with_whom}, {created:%d %b %Y %H:%M} UTC" if created is not None else with_whom
