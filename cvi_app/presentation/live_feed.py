"""What the room's two live feeds show for each update: transcript line changes and event rows.

One place knows how each event looks to a person, for the live stream and for a restored
history alike. Items are partial dicts keyed by `id`: the browser merges an item's fields into
the line or row with the same id, which is how streaming text, interrupted marks and echoes
update a line in place, and how a turn's streaming partials and an echo's chunks update their
one event row (`EventGroups`).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from cvi_app.live.updates import EventReceived, InteractionSent, LiveUpdate
from cvi_app.presentation.rows import EVENT_SUMMARY_CHARS, EventGroups, audio_size, fresh_id
from cvi_app.presentation.text import short
from cvi_app.protocol import (
    EchoInteraction,
    Event,
    ReplicaInterruptedEvent,
    ReplicaStoppedSpeakingEvent,
    StoppedSpeakingEvent,
    StreamingUtteranceEvent,
    UtteranceEvent,
)

__all__ = ["FeedPresenter"]

Item = dict[str, Any]

# How many echoes (text or audio) a presenter remembers while their chunks arrive.
_ECHO_MEMORY = 64


def _line_id(role: str | None, event: Event) -> str:
    key = event.inference_id or (event.seq if event.seq is not None else fresh_id())
    return f"{'u' if role == 'user' else 'r'}-{key}"


class FeedPresenter:
    """Lines and rows from one tab's updates, in order.

    It remembers echoes while their chunks arrive: a chunked text echo reads as one line, and
    an audio echo (many chunks of base64 audio) is one short line, shown at its last chunk as
    "audio echo, 12.3 s", never its audio. Each echo, and each turn's streaming partials, is
    one event row, whose summary follows the echo as it is sent.
    """

    def __init__(self) -> None:
        self._echo_text: OrderedDict[str, str] = OrderedDict()
        self._audio_bytes: OrderedDict[str, int] = OrderedDict()
        self._rows = EventGroups()

    def present(self, update: LiveUpdate) -> tuple[list[Item], Item | None]:
        """The transcript line changes (often none) and the event-log row (or None) of an update."""
        if isinstance(update, InteractionSent) and isinstance(update.interaction, EchoInteraction):
            lines, summary = self._echo(update.interaction)
            return lines, self._rows.row(update, summary=summary)
        return self.lines(update), self._rows.row(update)

    def lines(self, update: LiveUpdate) -> list[Item]:
        """The transcript line changes one update makes (often none)."""
        if isinstance(update, EventReceived):
            return self._from_event(update.event)
        if isinstance(update, InteractionSent) and isinstance(update.interaction, EchoInteraction):
            return self._echo(update.interaction)[0]
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

    def _echo(self, interaction: EchoInteraction) -> tuple[list[Item], str]:
        """An echo chunk's line changes, and what the echo's row says now (its text or audio)."""
        props = interaction.properties
        key = props.inference_id or "echo"
        if props.modality == "audio":
            size = self._audio_bytes.pop(key, 0) + audio_size(props.audio or "")
            label = f"audio echo, {size / 2 / (props.sample_rate or 24000):.1f} s"
            if not props.done:
                self._audio_bytes[key] = size
                while len(self._audio_bytes) > _ECHO_MEMORY:
                    self._audio_bytes.popitem(last=False)
                return [], f"{label} so far"
            # Remembered as the echo's text, so the replica's own utterance of it ("[audio
            # 0.5s]") does not replace the line, whichever arrives first.
            self._remember_echo(key, f"[{label}]")
            return [_echo_line(key, f"[{label}]")], label
        text = self._echo_text.pop(key, "") + (props.text or "")
        self._remember_echo(key, text)
        return [_echo_line(key, text)], short(text, EVENT_SUMMARY_CHARS)

    def _remember_echo(self, key: str, text: str) -> None:
        self._echo_text[key] = text
        while len(self._echo_text) > _ECHO_MEMORY:
            self._echo_text.popitem(last=False)


def _echo_line(key: str, text: str) -> Item:
    return {"id": f"r-{key}", "role": "replica", "text": text, "echo": True}
