"""Opening a room in a tab: what the room's state tests share."""

from __future__ import annotations

from cvi_app.live.manager import SessionManager, StartOptions
from cvi_app.state.room_state import RoomState
from tests.support.reflex_tabs import Tab

NOT_LIVE = "This conversation is not live any more."


async def start(manager: SessionManager, tab: Tab) -> str:
    """Start a conversation owned by `tab`'s browser; return its id."""
    conversation = await manager.start_conversation(owner=tab.identity, options=StartOptions())
    return conversation.conversation_id


async def open_room(tab: Tab, cid: str) -> RoomState:
    """Open the room page of `cid` in `tab`; return its RoomState once it has loaded."""
    await tab.open(f"/room/{cid}")
    room = await tab.state(RoomState)
    await tab.wait(lambda: room.status != "loading", "the room to load")
    return room
