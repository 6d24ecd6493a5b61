"""Reading exports back the way their users' tools would."""

from __future__ import annotations

import html
import json
from typing import Any

import webvtt
from markdown_it import MarkdownIt


def vtt_cues(text: str) -> list[tuple[str, str, float, float]]:
    """(speaker, text, start, end) of each cue, via the webvtt-py parser in strict mode."""
    parsed = webvtt.from_string(text, strict=True)
    return [
        (
            cue.voice or "",
            html.unescape(cue.text),
            cue.start_time.in_milliseconds() / 1000,
            cue.end_time.in_milliseconds() / 1000,
        )
        for cue in parsed.captions
    ]


def markdown_lines(text: str) -> list[tuple[str, str]]:
    """(label, text) of each transcript paragraph, read with a CommonMark parser."""
    tokens = MarkdownIt("commonmark").parse(text)
    lines = []
    in_transcript = False
    for token in tokens:
        if token.type == "inline" and token.content == "Transcript":
            in_transcript = True
            continue
        if not in_transcript or token.type != "inline" or not token.children:
            continue
        children = [c for c in token.children if not (c.type == "text" and not c.content)]
        if children[0].type != "strong_open":
            continue
        label = children[1].content
        rest = "".join(child.content for child in children[3:])
        lines.append((label, rest.lstrip(" ")))
    return lines


def jsonl_records(text: str) -> list[dict[str, Any]]:
    """Each line of a JSON Lines file, decoded; the file must end with a newline."""
    assert text.endswith("\n")
    return [json.loads(line) for line in text.split("\n")[:-1]]
