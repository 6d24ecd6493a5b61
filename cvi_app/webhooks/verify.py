"""Asking the API whether a conversation is still live, instead of taking a webhook's word.

Tavus signs no webhook, so a `system.shutdown` is only a claim. `conversation_at_api` asks the
REST API (Tavus, or the sandbox in sandbox mode) what it knows; the webhook endpoint and the
start-up reconcile both decide from its answer.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

from cvi_app.tavus import TavusClient
from cvi_app.tavus.errors import TavusNotFoundError
from cvi_app.tavus.models import Conversation

__all__ = ["ApiAnswer", "ApiState", "EndVerifier", "conversation_at_api"]

ApiState = Literal["live", "ended", "unknown"]
"""`live`: the API says it is active; `ended`: it says it ended; `unknown`: it has no such
conversation (so it is live nowhere, e.g. the in-app sandbox restarted with the app)."""


@dataclass(frozen=True)
class ApiAnswer:
    """What the API said about one conversation."""

    state: ApiState
    conversation: Conversation | None = None

    @property
    def reason(self) -> str | None:
        """The API's own shutdown reason, when it gives one (the sandbox does)."""
        if self.conversation is None or self.state != "ended":
            return None
        return self.conversation.shutdown_reason or None


EndVerifier = Callable[[str], Awaitable[ApiAnswer]]
"""Asks the API about a conversation id; raises `TavusError` when the API cannot tell."""


async def conversation_at_api(client: TavusClient, conversation_id: str) -> ApiAnswer:
    """Ask the API whether a conversation is live, has ended, or is unknown to it.

    Args:
        client: A client for the API of the app's mode.
        conversation_id: The conversation.

    Returns:
        The API's answer. A status other than `ended` counts as live: only the API's own
        word ends a conversation.

    Raises:
        TavusError: The API could not be reached or answered with another error.
    """
    try:
        conversation = await client.get_conversation(conversation_id)
    except TavusNotFoundError:
        return ApiAnswer(state="unknown")
    state: ApiState = "ended" if conversation.status == "ended" else "live"
    return ApiAnswer(state=state, conversation=conversation)
