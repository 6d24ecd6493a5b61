"""Table rows: the event log, the tool-call panel, the history timeline, transcript and webhooks.

Every row is a small dict (ready for Reflex state) with a stable key, built from a live update
or from a stored record. A row has one builder here, whichever of the two it comes from, so
the room and the history page show a tool call or an event the same way. The room's event log
shows a group of messages that belong together (a turn's streaming partials, an echo's
chunks) as one row (`EventGroups`).
"""

from __future__ import annotations

import itertools
import json
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cvi_app.live.updates import (
    EventReceived,
    InteractionSent,
    LiveUpdate,
    OperatorNote,
    ToolCallUpdate,
)
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
    "EVENT_SUMMARY_CHARS",
    "RAW_PREVIEW_CHARS",
    "EventGroups",
    "audio_size",
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
GROUP_MEMORY = 64
"""Groups the event log remembers while their messages arrive."""
MEMBER_TEXT_CHARS = 40
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
    """The event-log row of one update (an event, a send, what an operator did), else None.

    A row has `id`, `at` (when it arrived or was sent, in milliseconds since the epoch), `dir`
    ("received", "sent" or "operator"), `type`, `summary` and `raw` (its JSON, capped);
    received events also their `seq`.
    """
    if isinstance(update, EventReceived):
        event = update.event
        row_id = f"e-{event.seq}" if event.seq is not None else f"e-{fresh_id()}"
        return {
            "id": row_id,
            "seq": event.seq,
            "at": _epoch_ms(update.at),
            "dir": "received",
            "type": event.event_type,
            "summary": _event_summary(event),
            "raw": _preview(update.raw or event.to_json()),
        }
    if isinstance(update, InteractionSent):
        interaction = update.interaction
        return {
            "id": f"s-{fresh_id()}",
            "at": _epoch_ms(update.at),
            "dir": "sent",
            "type": interaction.event_type,
            "summary": _sent_summary(interaction),
            "raw": _preview(_sent_json(interaction)),
        }
    if isinstance(update, OperatorNote):
        return {
            "id": f"o-{fresh_id()}",
            "at": _epoch_ms(update.at),
            "dir": "operator",
            "type": "operator",
            "summary": f"{update.actor} {update.action}",
            "raw": _preview(update.model_dump_json(include={"actor", "action"})),
        }
    return None


@dataclass
class _Group:
    row_id: str
    count: int = 0


class EventGroups:
    """The event log's rows, one for each group of messages that belong together.

    A replica turn's streaming partials (by `inference_id`) and an echo's chunks (text or audio,
    by `inference_id`) are one row: the group's first message makes it, and each later one
    updates it in place (same `id`, which the browser merges) with the group's `count`, its
    latest `summary`, and the message itself, small, as `message` (the browser keeps the
    group's first few and its last few). The row's `raw` is its first message's JSON until the
    message that closes the group (the final partial, the echo's `done` chunk) replaces it and
    marks the row `closed`: a message's JSON is the bulk of its update, and the ones between are
    seen in the list. So no update carries more than one message and one JSON, however long its
    group grows. Other updates are one row each. Groups are remembered while their messages
    arrive (the latest `memory` of them).
    """

    def __init__(self, memory: int = GROUP_MEMORY) -> None:
        self._groups: OrderedDict[str, _Group] = OrderedDict()
        self._memory = memory

    def row(self, update: LiveUpdate, *, summary: str | None = None) -> Item | None:
        """The row, or the change to its group's row, that one update makes (or None).

        Args:
            update: The update, in the order the tab receives them.
            summary: What the group's row says now, when it is more than this message's
                summary (an echo's text so far).
        """
        row = event_row(update)
        key = _group_key(update)
        if row is None or key is None:
            return row
        member = _member(update, row)
        group = self._groups.pop(key, None)
        if group is None:
            group = _Group(row_id=row["id"])
            change = row
        else:
            change = {"id": group.row_id, "summary": row["summary"]}
            if _closes_group(update):
                change.update(raw=row["raw"], closed=True)
        self._groups[key] = group
        while len(self._groups) > self._memory:
            self._groups.popitem(last=False)
        group.count += 1
        change.update(count=group.count, message=member)
        if summary is not None:
            change["summary"] = summary
        return change


def _group_key(update: LiveUpdate) -> str | None:
    if isinstance(update, EventReceived) and isinstance(update.event, StreamingUtteranceEvent):
        event = update.event
        if event.inference_id:
            return f"stream-{event.properties.role}-{event.inference_id}"
    if isinstance(update, InteractionSent) and isinstance(update.interaction, EchoInteraction):
        if update.interaction.properties.inference_id:
            return f"echo-{update.interaction.properties.inference_id}"
    return None


def _closes_group(update: LiveUpdate) -> bool:
    if isinstance(update, EventReceived) and isinstance(update.event, StreamingUtteranceEvent):
        return bool(update.event.properties.final or update.event.properties.is_interrupted)
    if isinstance(update, InteractionSent) and isinstance(update.interaction, EchoInteraction):
        return update.interaction.properties.done
    return False


def _member(update: LiveUpdate, row: Item) -> Item:
    # One message of a group as its opened row lists it: a streaming partial by how its text
    # ends now (they all begin alike), an echo's chunk by how it begins.
    text = row["summary"]
    if isinstance(update, EventReceived) and isinstance(update.event, StreamingUtteranceEvent):
        speech = update.event.properties.speech
        text = speech if len(speech) <= MEMBER_TEXT_CHARS else "…" + speech[1 - MEMBER_TEXT_CHARS :]
    member: Item = {"at": row["at"], "text": short(text, MEMBER_TEXT_CHARS)}
    if row.get("seq") is not None:
        member["seq"] = row["seq"]
    return member


def _epoch_ms(moment: datetime) -> int:
    # A naive moment (a stored one, read back without its zone) is UTC.
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return round(moment.timestamp() * 1000)


def audio_size(b64: str) -> int:
    """How many bytes of audio a base64 string decodes to."""
    return len(b64) // 4 * 3 - b64[-2:].count("=")


def _preview(text: str) -> str:
    # Compact JSON is sent with every event; the browser indents it when a row is opened. A long
    # message keeps its shape with its long strings cut, so what "Copy as JSON" gives still parses.
    if len(text) <= RAW_PREVIEW_CHARS:
        return text
    try:
        message = json.loads(text)
    except ValueError:
        message = None
    if isinstance(message, dict):
        for limit in (300, 40):
            cut = _compact(_cut_strings(message, limit))
            if len(cut) <= RAW_PREVIEW_CHARS:
                return cut
    return text[:RAW_PREVIEW_CHARS] + "…"


def _compact(message: Any) -> str:
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False)


def _cut_strings(value: Any, limit: int) -> Any:
    if isinstance(value, str):
        return short(value, limit)
    if isinstance(value, dict):
        return {key: _cut_strings(item, limit) for key, item in value.items()}
    if isinstance(value, list):
        return [_cut_strings(item, limit) for item in value]
    return value


def _sent_json(interaction: Interaction) -> str:
    if isinstance(interaction, EchoInteraction) and interaction.properties.audio:
        # The tab is told how much audio was sent, never the audio itself.
        message = interaction.to_message()
        properties = message["properties"]
        properties["audio_bytes"] = audio_size(properties.pop("audio"))
        return _compact(message)
    return interaction.to_json()


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
    if isinstance(interaction, EchoInteraction) and interaction.properties.audio:
        return f"{audio_size(interaction.properties.audio):,} bytes of audio"
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
