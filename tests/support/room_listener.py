"""What actually reached a sandbox conversation's room: a listener seated in the room beside
the replica, which keeps every app-message with its sender, and a way to know that everything
one participant sent so far has arrived (at the listener and at the replica)."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from cvi_app.protocol import append_context
from cvi_app.sandbox.replica import SimulatedReplica
from cvi_app.sandbox.rooms import LocalParticipant
from cvi_app.transport import RoomTransport
from tests.support.sandbox import LiveSandbox
from tests.support.servers import wait_for

__all__ = ["RoomListener", "listen"]

_MARKER = "caught-up marker "


@dataclass
class RoomListener:
    """Every app-message the room delivered to a participant of its own, in arrival order."""

    conversation_id: str
    replica: SimulatedReplica | None
    heard: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    participant: LocalParticipant | None = None

    def on_message(self, data: dict[str, Any], sender: str) -> None:
        self.heard.append((sender, data))

    def messages_from(self, sender: str) -> list[dict[str, Any]]:
        """What `sender` put in the room (markers left out)."""
        return [data for who, data in self.heard if who == sender and not _is_marker(data)]

    async def caught_up(self, transport: RoomTransport) -> list[dict[str, Any]]:
        """Everything `transport` sent into the room before now, once it has all arrived.

        The room keeps each sender's messages in order, so a marker sent last arrives last:
        once the listener (and the replica, when there is one) has it, nothing sent before it
        is still on its way.
        """
        me = transport.local_participant
        assert me is not None, "the transport is not in the room"
        text = f"{_MARKER}{uuid.uuid4().hex}"
        await transport.send(append_context(self.conversation_id, text))

        def arrived() -> bool:
            at_listener = any(
                who == me.id and data.get("properties", {}).get("context") == text
                for who, data in self.heard
            )
            at_replica = self.replica is None or text in self.replica.responder.context
            return at_listener and at_replica

        await wait_for(arrived, what="the room to deliver everything sent before the marker")
        return self.messages_from(me.id)


def _is_marker(data: dict[str, Any]) -> bool:
    context = data.get("properties", {}).get("context")
    return isinstance(context, str) and context.startswith(_MARKER)


@contextlib.asynccontextmanager
async def listen(sandbox: LiveSandbox, conversation_id: str) -> AsyncIterator[RoomListener]:
    """Seat a listener in a live conversation's room for the block (it leaves afterwards)."""
    room = sandbox.parts.runtime.room(conversation_id)
    assert room is not None, f"no open room for {conversation_id}"
    listener = RoomListener(conversation_id, sandbox.parts.runtime.replica(conversation_id))
    listener.participant = await room.join(user_name="listener", on_app_message=listener.on_message)
    try:
        yield listener
    finally:
        await listener.participant.leave()
