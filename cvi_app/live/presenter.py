"""Turn live updates (or stored events) into what the room shows: transcript lines, event rows.

One place knows how each event looks to a person, for the live stream and for history alike.
Items are partial dicts keyed by `id`: the browser merges an item's fields into the line with
the same id, which is how streaming text, interrupted marks and echoes update a line in place.
"""

from __future__ import annotations

import itertools
import json
from collections import OrderedDict
from typing import Any

from cvi_app.live.updates import EventReceived, InteractionSent, LiveUpdate, ToolCallUpdate
from cvi_app.protocol import (
    EchoInteraction,
    Event,
    ReplicaInterruptedEvent,
    ReplicaStoppedSpeakingEvent,
    RespondInteraction,
    ShutdownEvent,
    StoppedSpeakingEvent,
    StreamingUtteranceEvent,
    ToolCallEvent,
    UtteranceEvent,
)

Item = dict[str, Any]

RAW_PREVIEW_CHARS = 3000
SUMMARY_CHARS = 90
_ECHO_MEMORY = 64


def _short(text: str, limit: int = SUMMARY_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# Items with nothing stable to be named by get a number from here. Not `id()`: CPython reuses
# the address of a freed object, and the browser merges items that share an id.
_fresh_ids = itertools.count(1)


def _fresh_id() -> str:
    return f"n{next(_fresh_ids)}"


def _line_id(role: str | None, event: Event) -> str:
    key = event.inference_id or (event.seq if event.seq is not None else _fresh_id())
    return f"{'u' if role == 'user' else 'r'}-{key}"


class TranscriptPresenter:
    """Transcript lines from updates; remembers echo text so chunked echoes read as one line."""

    def __init__(self) -> None:
        self._echo_text: OrderedDict[str, str] = OrderedDict()

    def lines(self, update: LiveUpdate) -> list[Item]:
        """The transcript line changes one update makes (often none)."""
        if isinstance(update, EventReceived):
            return self._from_event(update.event)
        if isinstance(update, InteractionSent):
            return self._from_sent(update.interaction)
        return []

    def _from_event(self, event: Event) -> list[Item]:
        match event:
            case UtteranceEvent():
                role = "user" if event.properties.role == "user" else "replica"
                if role == "replica" and event.inference_id in self._echo_text:
                    # The line already holds the exact echoed text; the replica's copy may be
                    # cut to fit one app-message.
                    return []
                line: Item = {"id": _line_id(role, event), "role": role}
                line["text"] = event.properties.speech
                if event.properties.interrupted:
                    line["interrupted"] = True
                return [line]
            case StreamingUtteranceEvent():
                role = "user" if event.properties.role == "user" else "replica"
                line = {
                    "id": _line_id(role, event),
                    "role": role,
                    "streamed": event.properties.speech,
                    "partial": not event.properties.final,
                }
                if event.properties.is_interrupted:
                    line["interrupted"] = True
                    line["partial"] = False
                return [line]
            case ReplicaStoppedSpeakingEvent() | StoppedSpeakingEvent():
                if isinstance(event, StoppedSpeakingEvent) and event.properties.role == "user":
                    return []
                line = {"id": _line_id("replica", event), "role": "replica", "partial": False}
                if event.properties.interrupted:
                    line["interrupted"] = True
                return [line] if event.inference_id else []
            case ReplicaInterruptedEvent():
                if not event.inference_id:
                    return []
                return [{"id": _line_id("replica", event), "interrupted": True, "partial": False}]
        return []

    def _from_sent(self, interaction: Any) -> list[Item]:
        if not isinstance(interaction, EchoInteraction):
            return []
        props = interaction.properties
        key = props.inference_id or "echo"
        if props.modality == "audio":
            text = "[audio]"
        else:
            text = self._echo_text.pop(key, "") + (props.text or "")
            self._echo_text[key] = text
            while len(self._echo_text) > _ECHO_MEMORY:
                self._echo_text.popitem(last=False)
        return [{"id": f"r-{key}", "role": "replica", "text": text, "echo": True}]


def event_row(update: LiveUpdate) -> Item | None:
    """The event-log row for one update: inbound events and sent interactions."""
    if isinstance(update, EventReceived):
        event = update.event
        row_id = f"e-{event.seq}" if event.seq is not None else f"e-{_fresh_id()}"
        return {
            "id": row_id,
            "seq": event.seq,
            "type": event.event_type,
            "summary": _event_summary(event),
            "raw": _preview(update.raw or event.to_json()),
        }
    if isinstance(update, InteractionSent):
        message = update.interaction.to_message()
        return {
            "id": f"s-{_fresh_id()}",
            "type": f"sent {update.interaction.event_type}",
            "summary": _sent_summary(update.interaction),
            "raw": _preview(json.dumps(message, ensure_ascii=False, separators=(",", ":"))),
        }
    return None


def tool_row(update: ToolCallUpdate) -> Item:
    """A tool call as the tool panel shows it."""
    return {
        "id": update.tool_call_id,
        "name": update.name,
        "arguments": json.dumps(update.arguments, ensure_ascii=False),
        "status": update.status,
        "output": _short(update.output or "", 300),
        "latency": f"{update.latency_ms:.0f} ms" if update.latency_ms is not None else "",
    }


def _preview(text: str) -> str:
    # Compact JSON is sent with every event; the browser indents it when a row is opened.
    return text if len(text) <= RAW_PREVIEW_CHARS else text[:RAW_PREVIEW_CHARS] + "…"


def _event_summary(event: Event) -> str:
    match event:
        case UtteranceEvent() | StreamingUtteranceEvent():
            return f"{event.properties.role}: {_short(event.properties.speech)}"
        case ToolCallEvent():
            return f"{event.properties.name}({_short(json.dumps(event.properties.arguments))})"
        case ReplicaStoppedSpeakingEvent() | StoppedSpeakingEvent():
            extra = " interrupted" if event.properties.interrupted else ""
            duration = event.properties.duration
            return (f"{duration:.1f}s" if duration is not None else "") + extra
        case ShutdownEvent():
            return event.reason or ""
    return ""


def _sent_summary(interaction: Any) -> str:
    if isinstance(interaction, RespondInteraction | EchoInteraction):
        text = getattr(interaction.properties, "text", None)
        return _short(text) if text else ""
    return ""
