"""Who is in a conversation's call, as the session sees it, and its own link to the room."""

from __future__ import annotations

from typing import Literal

from cvi_app.live.updates import PresenceChanged, PresentParticipant, utc_now
from cvi_app.transport import Participant, RoomTransport

__all__ = ["Presence"]

Link = Literal["joining", "connected", "reconnecting", "left"]


class Presence:
    """Keeps when each participant joined, and makes the `PresenceChanged` the tabs show."""

    def __init__(self, transport: RoomTransport) -> None:
        self._transport = transport
        self._joined_at: dict[str, PresentParticipant] = {}
        self.link: Link = "joining"

    def snapshot(self, link: Link | None = None) -> PresenceChanged:
        """Who is in the call now (the replica first, then the app, then people, by arrival)."""
        if link is not None:
            self.link = link
        me = self._transport.local_participant
        present = self._transport.participants() if self.link != "left" else {}
        if me is not None and self.link != "left":
            present = {**present, me.id: me}
        self._joined_at = {key: self._describe(p, me) for key, p in present.items()}
        shown = list(self._joined_at.values())
        order = {"replica": 0, "app": 1, "person": 2}
        shown.sort(key=lambda p: (order[p.role], p.joined_at))
        limit = PresenceChanged.MAX_SHOWN
        return PresenceChanged(
            participants=shown[:limit], others=max(0, len(shown) - limit), link=self.link
        )

    def _describe(self, participant: Participant, me: Participant | None) -> PresentParticipant:
        known = self._joined_at.get(participant.id)  # keeps its first sighting's time
        if participant.is_replica:
            role: Literal["replica", "app", "person"] = "replica"
        elif me is not None and participant.id == me.id:
            role = "app"
        else:
            role = "person"
        # The replica's and the app's own user names are markers, not names.
        name = {"replica": "Replica", "app": "CVI Studio"}.get(role) or (
            participant.user_name[:80] or "Guest"
        )
        return PresentParticipant(
            id=participant.id[:80],
            name=name,
            role=role,
            joined_at=known.joined_at if known is not None else utc_now(),
        )
