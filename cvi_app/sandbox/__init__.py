"""The sandbox: a local Tavus-compatible REST API, room hub and simulated replica.

Names are imported lazily, so importing one part (e.g. `cvi_app.sandbox.models`) does not pull
in the others. `SANDBOX_SIMULATES` says in plain sentences what the sandbox simulates and what
it does not, for the room to show.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cvi_app.sandbox.app import Sandbox, create_sandbox_app, sandbox_of
    from cvi_app.sandbox.custom_llm import CustomLLM, CustomLLMLimits
    from cvi_app.sandbox.replica import SimulatedReplica
    from cvi_app.sandbox.responder import SANDBOX_SIMULATES, Responder
    from cvi_app.sandbox.rooms import (
        LocalParticipant,
        MessageTooLargeError,
        Room,
        RoomClosedError,
        RoomError,
        RoomHub,
        UnknownParticipantError,
    )
    from cvi_app.sandbox.runtime import SandboxRuntime
    from cvi_app.sandbox.user_speech import UserSpeech
    from cvi_app.sandbox.webhooks import WebhookSender
    from cvi_app.transport.local_frames import ParticipantInfo

__all__ = [
    "CustomLLM",
    "CustomLLMLimits",
    "LocalParticipant",
    "MessageTooLargeError",
    "ParticipantInfo",
    "Responder",
    "Room",
    "RoomClosedError",
    "RoomError",
    "RoomHub",
    "SANDBOX_SIMULATES",
    "Sandbox",
    "SandboxRuntime",
    "SimulatedReplica",
    "UnknownParticipantError",
    "UserSpeech",
    "WebhookSender",
    "create_sandbox_app",
    "sandbox_of",
]

_WHERE = {
    "Sandbox": "app",
    "create_sandbox_app": "app",
    "sandbox_of": "app",
    "CustomLLM": "custom_llm",
    "CustomLLMLimits": "custom_llm",
    "ParticipantInfo": "rooms",  # the local room's wire format, cvi_app.transport.local_frames
    "SimulatedReplica": "replica",
    "Responder": "responder",
    "SANDBOX_SIMULATES": "responder",
    "LocalParticipant": "rooms",
    "MessageTooLargeError": "rooms",
    "Room": "rooms",
    "RoomClosedError": "rooms",
    "RoomError": "rooms",
    "RoomHub": "rooms",
    "UnknownParticipantError": "rooms",
    "SandboxRuntime": "runtime",
    "UserSpeech": "user_speech",
    "WebhookSender": "webhooks",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"cvi_app.sandbox.{module}"), name)
