"""Tavus's published OpenAPI document, narrowed to what the sandbox serves, for the property tests.

`fixtures/tavus-openapi.yml` is Tavus's document as published (a copy: the tests read only the
repo). `served_document` keeps the operations the sandbox serves, adds their newer aliases
(`/v2/pals`, `/v2/faces`, which the document does not list), and writes the sandbox's stated
differences (`DIFFERENCES`, also in CONFORMANCE.md) into the schemas, so that "valid" means what
the sandbox promises to accept. `positive_document` further picks values a valid request must
use to succeed (ids that exist, patches that apply); the negative cases come from
`served_document`, so anything outside it must be refused.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from cvi_app.sandbox.models import FACE_NAMES, PAL_NAMES
from cvi_app.tavus.models import (
    MAX_GREETING_CHARS,
    MAX_ID_CHARS,
    MAX_LANGUAGE_CHARS,
    MAX_NAME_CHARS,
    MAX_PROMPT_CHARS,
    MAX_URL_CHARS,
)

__all__ = [
    "DIFFERENCES",
    "DOCUMENT",
    "PATCHED_FIELDS",
    "SERVED",
    "load_document",
    "positive_document",
    "served_document",
]

DOCUMENT = Path(__file__).resolve().parent / "fixtures" / "tavus-openapi.yml"

SERVED: dict[str, tuple[str, ...]] = {
    "/v2/conversations": ("post", "get"),
    "/v2/conversations/{conversation_id}": ("get", "delete"),
    "/v2/conversations/{conversation_id}/end": ("post",),
    "/v2/personas": ("post", "get"),
    "/v2/personas/{persona_id}": ("get", "patch", "delete"),
    "/v2/replicas": ("get",),
    "/v2/replicas/{replica_id}": ("get",),
}
"""The documented operations the sandbox serves (the pal/face aliases are added to these)."""

_ALIASES = {
    "/v2/personas": ("/v2/pals", PAL_NAMES),
    "/v2/personas/{persona_id}": ("/v2/pals/{pal_id}", PAL_NAMES),
    "/v2/replicas": ("/v2/faces", FACE_NAMES),
    "/v2/replicas/{replica_id}": ("/v2/faces/{face_id}", FACE_NAMES),
}

DIFFERENCES: tuple[str, ...] = (
    'An unknown conversation, persona or replica id gets 404 `{"error": ...}`, as Tavus '
    "answers; the document lists only 400 for these.",
    f"Text fields are bounded: names {MAX_NAME_CHARS} characters, system prompts and contexts "
    f"{MAX_PROMPT_CHARS:,}, the greeting {MAX_GREETING_CHARS:,}, URLs {MAX_URL_CHARS:,}, ids "
    f"{MAX_ID_CHARS}, `language` 1 to {MAX_LANGUAGE_CHARS} (`cvi_app/tavus/models.py`); the "
    "document sets no maximum.",
    "`callback_url` must be an `http://` or `https://` URL: the sandbox delivers webhooks to it.",
    "`properties.max_call_duration` is at least 1 and the participant timeouts at least 0.",
    '`layers.llm.tools` holds OpenAI-style function tools (`{"type": "function", '
    '"function": {"name": ...}}`), as Tavus\'s tool-calling guide describes; the document '
    "leaves the items untyped.",
    "A persona patch operation's `value` may be any JSON value and is left out for `remove`, "
    "as RFC 6902 and the document's own example have it (its schema asks for a string every "
    "time); `copy` and `move` need `from`.",
    "A persona patch that changes nothing gets 304 with an empty body (HTTP allows no body on "
    "a 304; the document shows a `message`).",
    "Stock personas (`persona_type` `system`) cannot be patched or deleted (400); the "
    "example persona `pcb7a34da5fe` can.",
    "A persona in `full` mode without a `system_prompt` is accepted (the document's "
    "description asks for one; its schema does not).",
)
"""Where the sandbox departs from the document, in the words CONFORMANCE.md uses."""


def load_document() -> dict[str, Any]:
    """Tavus's OpenAPI document as published."""
    with DOCUMENT.open(encoding="utf-8") as stream:
        document: dict[str, Any] = yaml.safe_load(stream)
    return document


def served_document() -> dict[str, Any]:
    """The served operations and their aliases, with the sandbox's differences applied."""
    document = load_document()
    paths: dict[str, Any] = {}
    for path, methods in SERVED.items():
        item = document["paths"][path]
        missing = [method for method in methods if method not in item]
        if missing:
            raise LookupError(f"the document no longer has {missing} {path}")
        kept = {key: value for key, value in item.items() if key in (*methods, "parameters")}
        paths[path] = kept
    for path, (alias, names) in _ALIASES.items():
        paths[alias] = _renamed(copy.deepcopy(paths[path]), names)
    document["paths"] = paths
    for _, operation in _operations(document):
        _apply_differences(operation)
    return document


PATCHED_FIELDS = ("persona_name", "system_prompt", "context")
"""Text fields the positive patches add or replace: the patched personas must hold them."""


def positive_document(*, persona_ids: list[str], replica_ids: list[str]) -> dict[str, Any]:
    """`served_document` with the values a valid request must use to succeed.

    Args:
        persona_ids: Personas that exist (a conversation's `persona_id`).
        replica_ids: Replicas that exist (`replica_id`, `default_replica_id`).
    """
    document = served_document()
    ids = {
        "persona_id": persona_ids,
        "pal_id": persona_ids,
        "replica_id": replica_ids,
        "face_id": replica_ids,
        "default_replica_id": replica_ids,
        "default_face_id": replica_ids,
    }
    for path, operation in _operations(document):
        body = _body_schema(operation)
        if body is None:
            continue
        for name, schema in body.get("properties", {}).items():
            if name in ids:
                schema["enum"] = ids[name]
        items = body.get("items")
        if items is not None:
            # Operations that always apply to a document holding these text fields.
            items["properties"]["op"]["enum"] = ["add", "replace"]
            names = PAL_NAMES if path.startswith("/v2/pals") else {}
            items["properties"]["path"]["enum"] = [
                f"/{names.get(field, field)}" for field in PATCHED_FIELDS
            ]
            items["properties"]["value"] = {"type": "string", "maxLength": MAX_NAME_CHARS}
            items["required"] = ["op", "path", "value"]
    return document


# --- the differences, written into the schemas ------------------------------------------------

_MAX_LENGTHS = {
    "conversation_name": MAX_NAME_CHARS,
    "persona_name": MAX_NAME_CHARS,
    "pal_name": MAX_NAME_CHARS,
    "conversational_context": MAX_PROMPT_CHARS,
    "system_prompt": MAX_PROMPT_CHARS,
    "custom_greeting": MAX_GREETING_CHARS,
    "callback_url": MAX_URL_CHARS,
    "base_url": MAX_URL_CHARS,
    "replica_id": MAX_ID_CHARS,
    "persona_id": MAX_ID_CHARS,
    "default_replica_id": MAX_ID_CHARS,
    "default_face_id": MAX_ID_CHARS,
    "objectives_id": MAX_ID_CHARS,
    "guardrails_id": MAX_ID_CHARS,
    "pronunciation_dictionary_id": MAX_ID_CHARS,
    "document_retrieval_strategy": MAX_NAME_CHARS,
    "language": MAX_LANGUAGE_CHARS,
}
_MAX_ITEM_LENGTHS = {"document_ids": MAX_ID_CHARS, "document_tags": MAX_NAME_CHARS}
_MINIMUMS = {"max_call_duration": 1, "participant_left_timeout": 0, "participant_absent_timeout": 0}
_FUNCTION_TOOL: dict[str, Any] = {
    "type": "object",
    "required": ["function"],
    "properties": {
        "type": {"type": "string", "enum": ["function"]},
        "function": {
            "type": "object",
            "required": ["name"],
            "properties": {
                "name": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"},
                "description": {"type": "string"},
                "parameters": {"type": "object"},
            },
        },
    },
}


def _apply_differences(operation: dict[str, Any]) -> None:
    body = _body_schema(operation)
    if body is None:
        return
    for name, schema in _walk_properties(body):
        if name in _MAX_LENGTHS and schema.get("type") == "string":
            schema["maxLength"] = _MAX_LENGTHS[name]
        if name in _MAX_ITEM_LENGTHS:
            schema["items"] = {"type": "string", "maxLength": _MAX_ITEM_LENGTHS[name]}
        if name == "memory_stores":
            schema["items"] = {"type": "string", "maxLength": MAX_NAME_CHARS}
        if name == "language":
            schema["minLength"] = 1
        if name == "callback_url":
            schema["pattern"] = "^https?://"
        if name in _MINIMUMS:
            schema["minimum"] = _MINIMUMS[name]
        if name == "tools" and "items" not in schema:
            schema["items"] = copy.deepcopy(_FUNCTION_TOOL)
    items = body.get("items")
    if isinstance(items, dict) and "op" in items.get("properties", {}):
        items["required"] = ["op", "path"]
        items["properties"]["value"] = {}
        items["properties"]["from"] = {"type": "string"}


def _operations(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for key, operation in item.items():
            if key != "parameters":
                yield path, operation


def _body_schema(operation: dict[str, Any]) -> dict[str, Any] | None:
    content = operation.get("requestBody", {}).get("content", {})
    schema = content.get("application/json", {}).get("schema")
    return schema if isinstance(schema, dict) else None


def _walk_properties(schema: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, child in schema.get("properties", {}).items():
        if isinstance(child, dict):
            yield name, child
            yield from _walk_properties(child)
    items = schema.get("items")
    if isinstance(items, dict):
        yield from _walk_properties(items)


def _renamed(node: Any, names: dict[str, str]) -> Any:
    """Rename property keys, parameter names and path templates to the newer names."""

    def rename(text: str) -> str:
        return names.get(text, text)

    if isinstance(node, list):
        return [_renamed(item, names) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "properties" and isinstance(value, dict):
            out[key] = {rename(k): _renamed(v, names) for k, v in value.items()}
        elif key == "required" and isinstance(value, list):
            out[key] = [rename(v) for v in value]
        elif key == "name" and isinstance(value, str) and "in" in node:
            out[key] = rename(value)
        elif key == "operationId" and isinstance(value, str):
            out[key] = f"{value}Alias"
        else:
            out[key] = _renamed(value, names)
    return out
