"""Who is speaking in a conversation, from its speaking events (older and newer forms)."""

from __future__ import annotations

from cvi_app.protocol import (
    Event,
    ReplicaStartedSpeakingEvent,
    ReplicaStoppedSpeakingEvent,
    StartedSpeakingEvent,
    StoppedSpeakingEvent,
    UserStartedSpeakingEvent,
    UserStoppedSpeakingEvent,
)

__all__ = ["SpeakingTracker"]


class SpeakingTracker:
    """Whether the replica and the user are speaking now."""

    def __init__(self) -> None:
        self.replica = False
        self.user = False

    def apply(self, event: Event) -> bool:
        """Update from one event; return whether anything changed."""
        before = (self.replica, self.user)
        match event:
            case ReplicaStartedSpeakingEvent():
                self.replica = True
            case ReplicaStoppedSpeakingEvent():
                self.replica = False
            case UserStartedSpeakingEvent():
                self.user = True
            case UserStoppedSpeakingEvent():
                self.user = False
            case StartedSpeakingEvent() | StoppedSpeakingEvent():
                speaking = isinstance(event, StartedSpeakingEvent)
                if event.properties.role == "user":
                    self.user = speaking
                else:
                    self.replica = speaking
        return before != (self.replica, self.user)

    def silence(self) -> bool:
        """Nobody speaks any more (the conversation ended); return whether anything changed."""
        before = (self.replica, self.user)
        self.replica = self.user = False
        return before != (False, False)
