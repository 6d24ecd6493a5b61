"""The transcript as WebVTT captions: one cue per spoken line, with a voice span per speaker."""

from __future__ import annotations

import re

from cvi_app.exports.records import TranscriptDoc

__all__ = ["timestamp", "transcript_webvtt"]

_UNSAFE_NOTE = re.compile(r"[^A-Za-z0-9_.:-]")


def transcript_webvtt(doc: TranscriptDoc) -> str:
    """WebVTT captions of the spoken lines; cue times are seconds from the first event.

    Args:
        doc: The transcript, with cue times (see `load_transcript`).

    Returns:
        A complete WebVTT file.
    """
    conversation = _UNSAFE_NOTE.sub("_", doc.conversation.conversation_id)
    out = ["WEBVTT", "", f"NOTE conversation {conversation}, {doc.source} transcript", ""]
    number = 0
    for line in doc.lines:
        if not line.spoken or line.start is None or line.end is None:
            continue
        number += 1
        out += [
            str(number),
            f"{timestamp(line.start)} --> {timestamp(line.end)}",
            f"<v {line.speaker}>{_cue_text(line.text)}",
            "",
        ]
    return "\n".join(out)


def timestamp(seconds: float) -> str:
    """`HH:MM:SS.mmm`, as WebVTT cue timings are written."""
    millis = round(max(seconds, 0.0) * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.{millis:03d}"


def _cue_text(text: str) -> str:
    """Cue payload on one line: no blank lines, no `-->`, markup characters escaped."""
    flat = " ".join(text.split())
    return flat.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
