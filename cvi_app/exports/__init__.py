"""Exports of a stored conversation: transcript as JSON, Markdown and WebVTT; raw events as JSONL.

`records` reads what an export holds from the store, `render` and `webvtt` turn it into text,
and `routes` serves the downloads to the browser that owns the conversation.
"""

from cvi_app.exports.records import (
    ConversationInfo,
    RawRecord,
    SpokenLine,
    TranscriptDoc,
    load_raw_records,
    load_transcript,
)
from cvi_app.exports.render import raw_jsonl, transcript_json, transcript_markdown
from cvi_app.exports.routes import (
    EXPORT_FORMATS,
    EXPORT_PATH,
    export_path,
    export_routes,
)
from cvi_app.exports.timing import CueInput, cue_times, estimate_seconds
from cvi_app.exports.webvtt import transcript_webvtt

__all__ = [
    "EXPORT_FORMATS",
    "EXPORT_PATH",
    "ConversationInfo",
    "CueInput",
    "RawRecord",
    "SpokenLine",
    "TranscriptDoc",
    "cue_times",
    "estimate_seconds",
    "export_path",
    "export_routes",
    "load_raw_records",
    "load_transcript",
    "raw_jsonl",
    "transcript_json",
    "transcript_markdown",
    "transcript_webvtt",
]
