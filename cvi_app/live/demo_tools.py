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


async def get_weather(city: str) -> dict[str, object]:
    """Get the current weather for a city.

    Args:
        city: The city, e.g. Lisbon.
    """
    digest, condition = _pick(city, _CONDITIONS)
    return {"city": city, "temp_c": 5 + digest % 25, "conditions": condition}


async def lookup_order(order_id: str) -> dict[str, object]:
    """Look up the status of a customer's order by its id.

    Args:
        order_id: The order id, e.g. A-1001.
    """
    _, state = _pick(order_id, _ORDER_STATES)
    return {"order_id": order_id, "status": state}


DEMO_TOOLS = (get_weather, lookup_order)


def register_demo_tools(registry: ToolRegistry) -> ToolRegistry:
    """Add the demo tools to `registry` and return it.

    A name the registry already holds (a host app's own `get_weather`) keeps its tool.
    """
    for function in DEMO_TOOLS:
        if function.__name__ not in registry:
            registry.tool(function)
    return registry
