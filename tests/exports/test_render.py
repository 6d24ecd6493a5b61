"""Every export format parses back to what was said, with the conversation's facts."""

from __future__ import annotations

import json

from sqlalchemy import Engine

from cvi_app.exports import (
    load_raw_records,
    load_transcript,
    raw_jsonl,
    transcript_json,
    transcript_markdown,
    transcript_webvtt,
)
from cvi_app.exports.render import markdown_escape
from cvi_app.store import get_conversation, session_scope
from tests.exports.conftest import Recorded, end_with_official_transcript
from tests.exports.parsing import jsonl_records, markdown_lines, vtt_cues


def _flat(text: str) -> str:
    return " ".join(text.split())


def _doc(engine: Engine, cid: str):
    with session_scope(engine) as s:
        row = get_conversation(s, conversation_id=cid)
        assert row is not None
        return load_transcript(s, conversation=row)


def test_json_holds_the_exact_words_timings_and_facts(engine: Engine, recorded: Recorded) -> None:
    data = json.loads(transcript_json(_doc(engine, recorded.conversation_id)))
    assert data["format"] == "cvi-studio.transcript.v1"
    assert data["source"] == "live"
    assert data["conversation"]["name"] == "Plans & pricing"
    assert "owner_session" not in data["conversation"]
    assert [(line["speaker"], line["text"]) for line in data["lines"]] == recorded.spoken
    assert [line["start"] for line in data["lines"]] == [0.0, 4.2, 6.0]


def test_markdown_reads_back_as_one_paragraph_per_line(engine: Engine, recorded: Recorded) -> None:
    end_with_official_transcript(engine, recorded.conversation_id)
    text = transcript_markdown(_doc(engine, recorded.conversation_id))
    assert text.startswith("# Plans \\& pricing\n")
    assert "- **Shutdown reason:** end\\_conversation\\_endpoint\\_hit" in text
    lines = markdown_lines(text)
    assert [label for label, _ in lines] == [
        "[00:00:01] Replica:",
        "[00:00:04] User:",
        "[00:00:06] Replica:",
    ]
    assert [said for _, said in lines] == [_flat(said) for _, said in recorded.spoken]


def test_markdown_escaping_survives_a_commonmark_parser() -> None:
    nasty = "# not a heading *bold* _it_ `code` <b>tag</b> [link](x) a|b ~~s~~ \\ &amp;"
    text = f"## Transcript\n\n**User:** {markdown_escape(nasty)}\n"
    assert markdown_lines(text) == [("User:", nasty)]


def test_webvtt_parses_in_strict_mode_with_speakers_and_times(
    engine: Engine, recorded: Recorded
) -> None:
    cues = vtt_cues(transcript_webvtt(_doc(engine, recorded.conversation_id)))
    assert [(speaker, said) for speaker, said, _, _ in cues] == [
        (speaker, _flat(said)) for speaker, said in recorded.spoken
    ]
    assert [(start, end) for _, _, start, end in cues] == [(0.0, 2.5), (4.2, 5.2), (6.0, 10.0)]


def test_webvtt_of_the_official_transcript_uses_its_timings(
    engine: Engine, recorded: Recorded
) -> None:
    end_with_official_transcript(engine, recorded.conversation_id)
    cues = vtt_cues(transcript_webvtt(_doc(engine, recorded.conversation_id)))
    assert [(start, end) for _, _, start, end in cues] == [(1.0, 3.0), (4.5, 6.0), (6.25, 10.0)]
    assert [speaker for speaker, *_ in cues] == ["Replica", "User", "Replica"]


def test_jsonl_has_one_record_per_event_and_webhook(engine: Engine, recorded: Recorded) -> None:
    end_with_official_transcript(engine, recorded.conversation_id)
    with session_scope(engine) as s:
        text = raw_jsonl(load_raw_records(s, conversation_id=recorded.conversation_id))
    records = jsonl_records(text)
    assert len(records) == recorded.events + 2
    utterances = [r for r in records if r["event_type"] == "conversation.utterance"]
    assert [u["message"]["properties"]["speech"] for u in utterances] == [
        said for _, said in recorded.spoken
    ]
    assert records[-1]["kind"] == "webhook"
    assert records[-1]["message"]["properties"]["transcript"][0]["role"] == "system"


def test_an_empty_conversation_exports_valid_empty_files(engine: Engine) -> None:
    from tests.store.helpers import add_conversation

    add_conversation(engine, "c-empty", owner_session="x")
    doc = _doc(engine, "c-empty")
    assert doc.lines == []
    assert vtt_cues(transcript_webvtt(doc)) == []
    assert markdown_lines(transcript_markdown(doc)) == []
    assert json.loads(transcript_json(doc))["lines"] == []
    assert raw_jsonl([]) == ""
