"""What the room's two live feeds show for each update: transcript line changes and event rows.

One place knows how each event looks to a person, for the live stream and for a restored
history alike. Transcript items are partial dicts keyed by `id`: the browser merges an item's
fields into the line with the same id, which is how streaming text, interrupted marks and
echoes update a line in place.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from typing import Any

from cvi_app.live.updates import EventReceived, InteractionSent, LiveUpdate
from cvi_app.presentation.rows import event_row, fresh_id
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
    an audio echo (many chunks of base64 audio) is one short line and one row, shown at its last
    chunk as "audio echo, 12.3 s", never its audio.
    """

    def __init__(self) -> None:
        self._echo_text: OrderedDict[str, str] = OrderedDict()
        self._audio_bytes: OrderedDict[str, int] = OrderedDict()

    def present(self, update: LiveUpdate) -> tuple[list[Item], Item | None]:
        """The transcript line changes (often none) and the event-log row (or None) of an update."""
        if isinstance(update, InteractionSent) and isinstance(update.interaction, EchoInteraction):
            if update.interaction.properties.modality == "audio":
                return self._audio_echo(update.interaction)
        return self.lines(update), event_row(update)

    def lines(self, update: LiveUpdate) -> list[Item]:
        """The transcript line changes one update makes (often none)."""
        if isinstance(update, EventReceived):
            return self._from_event(update.event)
        if isinstance(update, InteractionSent) and isinstance(update.interaction, EchoInteraction):
            if update.interaction.properties.modality == "audio":
                return self._audio_echo(update.interaction)[0]
            return self._text_echo(update.interaction)
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

    def _text_echo(self, interaction: EchoInteraction) -> list[Item]:
        props = interaction.properties
        key = props.inference_id or "echo"
        text = self._echo_text.pop(key, "") + (props.text or "")
        self._remember_echo(key, text)
        return [{"id": f"r-{key}", "role": "replica", "text": text, "echo": True}]

    def _audio_echo(self, interaction: EchoInteraction) -> tuple[list[Item], Item | None]:
        props = interaction.properties
        key = props.inference_id or "echo"
        size = self._audio_bytes.pop(key, 0) + _decoded_size(props.audio or "")
        if not props.done:
            self._audio_bytes[key] = size
            while len(self._audio_bytes) > _ECHO_MEMORY:
                self._audio_bytes.popitem(last=False)
            return [], None
        label = f"audio echo, {size / 2 / (props.sample_rate or 24000):.1f} s"
        # Remembered as the echo's text, so the replica's own utterance of it ("[audio 0.5s]")
        # does not replace the line, whichever arrives first.
        self._remember_echo(key, f"[{label}]")
        line = {"id": f"r-{key}", "role": "replica", "text": f"[{label}]", "echo": True}
        row = {
            "id": f"s-audio-{key}",
            "type": "sent conversation.echo",
            "summary": label,
            "raw": json.dumps(
                {"event_type": "conversation.echo", "modality": "audio", "inference_id": key}
            ),
        }
        return [line], row

    def _remember_echo(self, key: str, text: str) -> None:
        self._echo_text[key] = text
        while len(self._echo_text) > _ECHO_MEMORY:
            self._echo_text.popitem(last=False)


def _decoded_size(b64: str) -> int:
    return len(b64) // 4 * 3 - b64[-2:].count("=")
