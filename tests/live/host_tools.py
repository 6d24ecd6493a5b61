"""A host app's tools module, as `CVI_TOOLS_MODULE=tests.live.host_tools` names it.

`count_stars` takes no required argument (the simulated replica calls a tool it hears named
with no arguments, so it succeeds); `book_table` needs a party and a time (so that call is
answered with an "invalid arguments" error).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from cvi_app.live.tools import ToolRegistry


class Party(BaseModel):
    """Who is coming."""

    adults: int
    children: int = 0


def register(tools: ToolRegistry) -> None:
    """Add the host app's tools."""

    @tools.tool
    async def count_stars(constellation: str = "Orion") -> dict[str, object]:
        """Count the bright stars of a constellation.

        Args:
            constellation: Its name, e.g. Orion.
        """
        return {"constellation": constellation, "bright_stars": 7}

    @tools.tool
    async def book_table(
        party: Party, time: str, seating: Literal["inside", "terrace"] = "inside"
    ) -> str:
        """Book a table at the restaurant.

        Args:
            party: Who is coming.
            time: When, e.g. 19:30.
            seating: Where to sit.
        """
        return f"A table {seating} for {party.adults + party.children} at {time}."
