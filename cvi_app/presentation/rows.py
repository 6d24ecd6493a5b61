"""Table rows: the event log, the tool-call panel, the history timeline, transcript and webhooks.

Every row is a flat dict of strings (ready for Reflex state) with a stable key, built from a
live update or from a stored record. A row has one builder here, whichever of the two it
comes from, so the room and the history page show a tool call or an event the same way.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

from cvi_app.live.updates import EventReceived, InteractionSent, LiveUpdate, ToolCallUpdate
from cvi_app.presentation.text import clock_time, short, speaker
from cvi_app.protocol import (
    EchoInteraction,
    Event,
    Interaction,
    ReplicaStoppedSpeakingEvent,
    RespondInteraction,
    ShutdownEvent,
    StoppedSpeakingEvent,
    StreamingUtteranceEvent,
    ToolCallEvent,
    UtteranceEvent,
)
from cvi_app.store.models import ConversationEvent, ToolCall, TranscriptEntry, WebhookDelivery

__all__ = [
    "RAW_PREVIEW_CHARS",
    "event_row",
    "fresh_id",
    "timeline_row",
    "tool_row",
    "transcript_row",
    "webhook_row",
]

Item = dict[str, Any]

RAW_PREVIEW_CHARS = 3000
"""How much of an event's JSON a row carries (the browser shows it when the row is opened)."""

EVENT_SUMMARY_CHARS = 90
HISTORY_SUMMARY_CHARS = 160
TOOL_OUTPUT_CHARS = 300

# Items with nothing stable to be named by get a number from here. Not `id()`: CPython reuses
# the address of a freed object, and the browser merges items that share an id.
_fresh_ids = itertools.count(1)


def fresh_id() -> str:
    """A key no other item of this process has (for items without a stable one)."""
    return f"n{next(_fresh_ids)}"


# ---- the room's event log --------------------------------------------------------------------


def event_row(update: LiveUpdate) -> Item | None:
    """The event-log row for one update: inbound events and sent interactions (else None)."""
    if isinstance(update, EventReceived):
        event = update.event
        row_id = f"e-{event.seq}" if event.seq is not None else f"e-{fresh_id()}"
        return {
            "id": row_id,
            "seq": event.seq,
            "type": event.event_type,
            "summary": _event_summary(event),
            "raw": _preview(update.raw or event.to_json()),
        }
    if isinstance(update, InteractionSent):
        return {
            "id": f"s-{fresh_id()}",
            "type": f"sent {update.interaction.event_type}",
            "summary": _sent_summary(update.interaction),
            "raw": _preview(update.interaction.to_json()),
        }
    return None


def _preview(text: str) -> str:
    # Compact JSON is sent with every event; the browser indents it when a row is opened.
    return text if len(text) <= RAW_PREVIEW_CHARS else text[:RAW_PREVIEW_CHARS] + "…"


def _event_summary(event: Event) -> str:
    match event:
        case UtteranceEvent() | StreamingUtteranceEvent():
            return f"{event.properties.role}: {short(event.properties.speech, EVENT_SUMMARY_CHARS)}"
        case ToolCallEvent():
            arguments = short(json.dumps(event.properties.arguments), EVENT_SUMMARY_CHARS)
            return f"{event.properties.name}({arguments})"
        case ReplicaStoppedSpeakingEvent() | StoppedSpeakingEvent():
            extra = " interrupted" if event.properties.interrupted else ""
            duration = event.properties.duration
            return (f"{duration:.1f}s" if duration is not None else "") + extra
        case ShutdownEvent():
            return event.reason or ""
    return ""


def _sent_summary(interaction: Interaction) -> str:
    if isinstance(interaction, RespondInteraction | EchoInteraction):
        text = getattr(interaction.properties, "text", None)
        return short(text, EVENT_SUMMARY_CHARS) if text else ""
    return ""


# ---- tool calls (room and history) -------------------------------------------------------------


def tool_row(call: ToolCallUpdate | ToolCall) -> dict[str, str]:
    """A tool call as the tool panel shows it, live (an update) or stored (a record)."""
    if isinstance(call, ToolCallUpdate):
        arguments = json.dumps(call.arguments, ensure_ascii=False)
        output = call.output
    else:
        arguments, output = call.arguments, call.result
    return {
        "id": call.tool_call_id,
        "name": call.name,
        "arguments": arguments,
        "status": call.status,
        "output": short(output or "", TOOL_OUTPUT_CHARS),
        "latency": f"{call.latency_ms:.0f} ms" if call.latency_ms is not None else "",
    }


# ---- the history page ----------------------------------------------------------------------------


def transcript_row(entry: TranscriptEntry) -> dict[str, str]:
    """One transcript line (live or official): `key`, `speaker`, `role`, `text`, `at`."""
    return {
        "key": str(entry.position),
        "speaker": speaker(entry.role),
        "role": "replica" if entry.role == "assistant" else entry.role,
        "text": entry.text,
        "at": clock_time(entry.at),
    }


def timeline_row(row: ConversationEvent) -> dict[str, str]:
    """One stored event: `key`, `time`, `source`, `type`, `seq` and `summary`."""
    if row.text:
        summary = f"{row.role}: {row.text}" if row.role else row.text
    else:
        summary = _properties_summary(row.raw)
    return {
        "key": str(row.id),
        "time": clock_time(row.received_at),
        "source": row.source,
        "type": row.event_type,
        "seq": "" if row.seq is None else str(row.seq),
        "summary": short(summary, HISTORY_SUMMARY_CHARS),
    }


def webhook_row(delivery: WebhookDelivery) -> dict[str, str]:
    """One webhook delivery: `key`, `type`, `time` and a summary of its properties."""
    return {
        "key": str(delivery.id),
        "type": delivery.event_type,
        "time": clock_time(delivery.received_at),
        "summary": short(_properties_summary(delivery.payload), HISTORY_SUMMARY_CHARS),
    }


def _properties_summary(raw: str) -> str:
    try:
        message = json.loads(raw)
    except ValueError:
        return ""
    properties = message.get("properties") if isinstance(message, dict) else None
    if not properties:
        return ""
    if isinstance(properties, dict) and isinstance(properties.get("transcript"), list):
        return f"transcript of {len(properties['transcript'])} lines"
    return json.dumps(properties, ensure_ascii=False, separators=(", ", ": "))
