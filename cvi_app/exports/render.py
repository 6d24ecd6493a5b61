"""Transcript as JSON and Markdown, raw records as JSON Lines: pure functions of loaded records."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import datetime

from cvi_app.exports.records import RawRecord, TranscriptDoc

__all__ = ["clock", "markdown_escape", "raw_jsonl", "transcript_json", "transcript_markdown"]

JSON_FORMAT = "cvi-studio.transcript.v1"
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>&~|#])")


def transcript_json(doc: TranscriptDoc) -> str:
    """The transcript as one JSON document (times in ISO 8601, cue times in seconds)."""
    body = {"format": JSON_FORMAT, **doc.model_dump(mode="json")}
    return json.dumps(body, ensure_ascii=False, indent=2) + "\n"


def transcript_markdown(doc: TranscriptDoc) -> str:
    """The transcript as Markdown: a title, the facts, then one paragraph per spoken line."""
    info = doc.conversation
    facts = [
        ("Conversation", f"`{info.conversation_id}`"),
        ("Mode", info.mode),
        ("Started", _when(info.created_at)),
        ("Ended", _when(info.ended_at) if info.ended_at else "not yet"),
        ("Status", info.status),
    ]
    if info.shutdown_reason:
        facts.append(("Shutdown reason", markdown_escape(info.shutdown_reason)))
    facts.append(("Transcript", doc.source))
    out = [f"# {markdown_escape(info.title)}", ""]
    out += [f"- **{label}:** {value}" for label, value in facts]
    out += ["", "## Transcript", ""]
    spoken = [line for line in doc.lines if line.spoken]
    if not spoken:
        out += ["_Nothing was said._", ""]
    for line in spoken:
        stamp = f"[{clock(line.start)}] " if line.start is not None else ""
        out += [f"**{stamp}{line.speaker}:** {markdown_escape(line.text)}", ""]
    return "\n".join(out)


def raw_jsonl(records: Iterable[RawRecord]) -> str:
    """One JSON object per line, in arrival order; every line ends with a newline."""
    lines = []
    for record in records:
        text = json.dumps(record.model_dump(mode="json"), ensure_ascii=False)
        # JSON allows these inside strings, but many line readers split on them.
        lines.append(text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029") + "\n")
    return "".join(lines)


def markdown_escape(text: str) -> str:
    """Inline text that Markdown shows literally, on one line."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(text.split()))


def clock(seconds: float) -> str:
    """`HH:MM:SS` for a number of seconds."""
    whole = int(seconds)
    return f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")
