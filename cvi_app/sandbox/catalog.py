"""The sandbox's stock personas and replicas, seeded into every new registry.

Ids are fixed so links, tests and docs can name them; they have Tavus's shape (a letter and 11
hex digits). Thumbnails point at the app's placeholder replica image (`assets/sandbox_replica.svg`,
which Reflex serves at the site root).

Beside the sandbox's own, the registry holds the persona and replicas that Tavus's API reference
uses in its examples (`pcb7a34da5fe`, `r90bbd427f71`, `rf4e9d9790f0`), so an example copied
from the documentation works verbatim. The examples also patch and delete that persona, so it is
an ordinary (`user`) persona of the sandbox's account, not a protected stock one.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from cvi_app.tavus.models import Persona, Replica

__all__ = [
    "ASSISTANT_PERSONA_ID",
    "DEFAULT_PERSONA_ID",
    "DEFAULT_REPLICA_ID",
    "EXAMPLE_PERSONA_ID",
    "EXAMPLE_REPLICA_IDS",
    "PERCEPTION_PERSONA_ID",
    "PLACEHOLDER_THUMBNAIL",
    "STOCK_REPLICA_IDS",
    "SUPPORT_PERSONA_ID",
    "example_personas",
    "stock_personas",
    "stock_replicas",
]

ASSISTANT_PERSONA_ID = "pa1e0c3d5f01"
SUPPORT_PERSONA_ID = "pb2f1d4e6a02"
PERCEPTION_PERSONA_ID = "pc3a2e5f7b03"
DEFAULT_PERSONA_ID = ASSISTANT_PERSONA_ID

ANNA_REPLICA_ID = "rd4b3f6a8c01"
NATHAN_REPLICA_ID = "re5c4a7b9d02"
LUCY_REPLICA_ID = "rf6d5b8cae03"
DEFAULT_REPLICA_ID = ANNA_REPLICA_ID
STOCK_REPLICA_IDS = (ANNA_REPLICA_ID, NATHAN_REPLICA_ID, LUCY_REPLICA_ID)

# The ids of the API reference's examples.
EXAMPLE_PERSONA_ID = "pcb7a34da5fe"
RIO_REPLICA_ID = "r90bbd427f71"
NOVA_REPLICA_ID = "rf4e9d9790f0"
EXAMPLE_REPLICA_IDS = (RIO_REPLICA_ID, NOVA_REPLICA_ID)

_SEEDED_AT = datetime(2025, 1, 1, tzinfo=UTC)
PLACEHOLDER_THUMBNAIL = "/sandbox_replica.svg"

_GET_WEATHER: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather in a city.",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string", "description": "The city, e.g. Lisbon"},
            },
            "required": ["city"],
        },
    },
}

_LOOKUP_ORDER: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "lookup_order",
        "description": "Look up the status of a customer's order by its id.",
        "parameters": {
            "type": "object",
            "properties": {
                "order_id": {"type": "string", "description": "The order id, e.g. A-1001"},
            },
            "required": ["order_id"],
        },
    },
}

_PERSONAS: list[dict[str, Any]] = [
    {
        "persona_id": ASSISTANT_PERSONA_ID,
        "persona_name": "Sandbox Assistant",
        "system_prompt": "You are a friendly, concise general assistant.",
        "context": "You are talking with a developer trying out CVI Studio's sandbox.",
        "default_replica_id": ANNA_REPLICA_ID,
        "pipeline_mode": "full",
        "persona_type": "system",
        "layers": {"llm": {"model": "tavus-gpt-4o", "tools": []}},
    },
    {
        "persona_id": SUPPORT_PERSONA_ID,
        "persona_name": "Support Agent",
        "system_prompt": (
            "You are a customer support agent. Use get_weather for weather questions and "
            "lookup_order when the customer gives an order id."
        ),
        "context": "Orders have ids like A-1001. Be brief and confirm what you found.",
        "default_replica_id": NATHAN_REPLICA_ID,
        "pipeline_mode": "full",
        "persona_type": "system",
        "layers": {"llm": {"model": "tavus-gpt-4o", "tools": [_GET_WEATHER, _LOOKUP_ORDER]}},
    },
    {
        "persona_id": PERCEPTION_PERSONA_ID,
        "persona_name": "Vision Guide",
        "system_prompt": "You can see the user. Comment on what you notice when it helps.",
        "context": "Describe what you see only when asked or when it matters.",
        "default_replica_id": LUCY_REPLICA_ID,
        "pipeline_mode": "full",
        "persona_type": "system",
        "layers": {
            "llm": {"model": "tavus-gpt-4o", "tools": []},
            "perception": {
                "perception_model": "raven-0",
                "ambient_awareness_queries": [
                    "Is the user looking at the camera?",
                    "Is the user holding up an object?",
                ],
            },
        },
    },
]

_EXAMPLE_PERSONAS: list[dict[str, Any]] = [
    {
        "persona_id": EXAMPLE_PERSONA_ID,
        "persona_name": "Life Coach",
        "system_prompt": (
            "As a Life Coach, you are a dedicated professional who specializes in helping "
            "people set goals and take the next step towards them."
        ),
        "default_replica_id": RIO_REPLICA_ID,
        "pipeline_mode": "full",
        "persona_type": "user",
        "layers": {
            "llm": {"model": "tavus-gpt-oss", "tools": []},
            "stt": {"stt_engine": "tavus-auto", "hotwords": "Life Coach"},
        },
    },
]

_REPLICAS: list[dict[str, Any]] = [
    {
        "replica_id": ANNA_REPLICA_ID,
        "replica_name": "Anna",
        "replica_type": "system",
        "model_name": "phoenix-3",
    },
    {
        "replica_id": NATHAN_REPLICA_ID,
        "replica_name": "Nathan",
        "replica_type": "system",
        "model_name": "phoenix-3",
    },
    {
        "replica_id": LUCY_REPLICA_ID,
        "replica_name": "Lucy",
        "replica_type": "system",
        "model_name": "phoenix-3",
    },
    {
        "replica_id": RIO_REPLICA_ID,
        "replica_name": "Rio",
        "replica_type": "user",
        "model_name": "phoenix-3",
    },
    {
        "replica_id": NOVA_REPLICA_ID,
        "replica_name": "Nova",
        "replica_type": "user",
        "model_name": "phoenix-4",
    },
]


def stock_personas() -> list[Persona]:
    """Fresh copies of the stock personas (type `system`: they cannot be changed or deleted).

    An assistant, a support agent with two tools (`get_weather(city)`,
    `lookup_order(order_id)`) and a perception-enabled guide (`raven-0`).
    """
    return [_persona(raw) for raw in _PERSONAS]


def example_personas() -> list[Persona]:
    """Fresh copies of the API reference's example persona (`user`: its examples change it)."""
    return [_persona(raw) for raw in _EXAMPLE_PERSONAS]


def stock_replicas() -> list[Replica]:
    """Fresh copies of the stock and example replicas, all trained (`status` `completed`)."""
    return [
        Replica.model_validate(
            {
                **raw,
                "thumbnail_video_url": PLACEHOLDER_THUMBNAIL,
                "training_progress": "100/100",
                "status": "completed",
                "created_at": _SEEDED_AT,
                "updated_at": _SEEDED_AT,
            }
        )
        for raw in _REPLICAS
    ]


def _persona(raw: dict[str, Any]) -> Persona:
    return Persona.model_validate({**raw, "created_at": _SEEDED_AT, "updated_at": _SEEDED_AT})
