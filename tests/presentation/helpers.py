"""Updates as the room's presenter gets them, and the feeds as the browser shows them."""

from __future__ import annotations

from typing import Any

from cvi_app.live.updates import EventReceived
from cvi_app.protocol import parse_event

CID = "c1"
BROWSER_HEAD = BROWSER_TAIL = 3
"""The first and the last messages of a group row the browser keeps (live_feed.jsx)."""


def received(
    event_type: str, properties: dict[str, Any] | None = None, **top: Any
) -> EventReceived:
    """An event from the replica, checked as the session checks it."""
    raw = {"message_type": "conversation", "event_type": event_type, "conversation_id": CID, **top}
    if properties is not None:
        raw["properties"] = properties
    return EventReceived(event=parse_event(raw))


def streaming(
    speech: str,
    index: int,
    *,
    final: bool = False,
    inference_id: str = "inf-1",
    first_seq: int = 10,
    **props: Any,
) -> EventReceived:
    """One streaming partial of a replica turn (`seq`: `first_seq` + `index`)."""
    return received(
        "conversation.utterance.streaming",
        {"role": "replica", "speech": speech, "content_index": index, "final": final, **props},
        inference_id=inference_id,
        seq=first_seq + index,
    )


def merged(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """What the browser shows: items upserted by id, fields merged, a group's messages kept.

    Of the messages a group row's updates bring, it keeps the first few (`head`) and the last
    few after those (`tail`).
    """
    shown: dict[str, dict[str, Any]] = {}
    for item in items:
        old = shown.get(item["id"], {})
        new = {**old, **item}
        if "message" in new:
            message, head = new.pop("message"), old.get("head", [])
            if len(head) < BROWSER_HEAD:
                new["head"] = [*head, message]
            else:
                new["tail"] = [*old.get("tail", []), message][-BROWSER_TAIL:]
        shown[item["id"]] = new
    return shown
