"""Two built-in demo tools, matching the sandbox's support persona.

`get_weather` and `lookup_order` answer from fixed tables: the point is the round trip.
"""

from __future__ import annotations

import hashlib

from cvi_app.live.tools import ToolRegistry

_CONDITIONS = ["sunny", "cloudy", "light rain", "windy", "clear skies"]
_ORDER_STATES = ["processing", "shipped", "out for delivery", "delivered"]


def _pick(key: str, choices: list[str]) -> tuple[int, str]:
    digest = int(hashlib.sha256(key.lower().encode()).hexdigest(), 16)
    return digest, choices[digest % len(choices)]


def register_demo_tools(registry: ToolRegistry) -> ToolRegistry:
    """Add the demo tools to `registry` and return it."""

    @registry.tool
    async def get_weather(city: str) -> dict[str, object]:
        """Get the current weather for a city."""
        digest, condition = _pick(city, _CONDITIONS)
        return {"city": city, "temp_c": 5 + digest % 25, "conditions": condition}

    @registry.tool
    async def lookup_order(order_id: str) -> dict[str, object]:
        """Look up the status of a customer's order by its id."""
        _, state = _pick(order_id, _ORDER_STATES)
        return {"order_id": order_id, "status": state}

    return registry
