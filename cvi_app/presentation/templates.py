"""Examples of each documented interaction, for the room's advanced composer."""

from __future__ import annotations

import json
from collections.abc import Callable

from cvi_app.protocol import (
    Interaction,
    ProtocolError,
    append_context,
    echo_text,
    interrupt,
    overwrite_context,
    respond,
    sensitivity,
    tool_result,
)

__all__ = ["INTERACTION_TEMPLATES", "interaction_template"]

_EXAMPLES: dict[str, Callable[[str], Interaction]] = {
    "conversation.respond": lambda cid: respond(cid, "What can you help me with?"),
    "conversation.echo": lambda cid: echo_text(cid, "Hello! I am saying exactly this."),
    "conversation.interrupt": interrupt,
    "conversation.overwrite_llm_context": lambda cid: overwrite_context(
        cid, "The user's name is Sam. Sam is asking about an order."
    ),
    "conversation.append_llm_context": lambda cid: append_context(
        cid, "Sam's order number is 1234."
    ),
    "conversation.sensitivity": lambda cid: sensitivity(cid, pause="high")[0],
    "conversation.tool_result": lambda cid: tool_result(
        cid, "the-tool-call-id", {"status": "shipped"}
    ),
}

INTERACTION_TEMPLATES: tuple[str, ...] = tuple(_EXAMPLES)
"""The interactions the composer has an example of (every documented one)."""


def interaction_template(event_type: str, conversation_id: str) -> str:
    """An example of `event_type` for the conversation, as indented JSON ("" if unknown)."""
    example = _EXAMPLES.get(event_type)
    if example is None:
        return ""
    try:
        message = example(conversation_id).to_message()
    except ProtocolError:  # a blank conversation id: show the shape anyway
        message = example("your-conversation-id").to_message()
    return json.dumps(message, indent=2, ensure_ascii=False)
