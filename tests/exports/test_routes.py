"""Export downloads over real HTTP: the owning browser gets parseable files, nobody else does."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import Engine
from starlette.applications import Starlette

from cvi_app.access.owner_cookie import OwnerCookies
from cvi_app.exports import export_path, export_routes
from cvi_app.protocol import UtteranceEvent
from cvi_app.protocol.events import UtteranceProperties
from cvi_app.store import insert_events, new_event_from_protocol, session_scope
from tests.exports.conftest import (
    COOKIES,
    OWNER,
    OWNER_TOKEN,
    Recorded,
    end_with_official_transcript,
)
from tests.exports.parsing import jsonl_records, markdown_lines, vtt_cues
from tests.store.helpers import add_conversation
from tests.support.servers import serve_asgi


@pytest.fixture
def server_url(engine: Engine) -> Iterator[str]:
    with serve_asgi(
        Starlette(routes=export_routes(engine_factory=lambda: engine, cookies=COOKIES))
    ) as url:
        yield url


def _get(url: str, path: str, owner: str | None = OWNER_TOKEN) -> httpx.Response:
    cookies = {COOKIES.name: owner} if owner is not None else None
    with httpx.Client(base_url=url, cookies=cookies, timeout=30) as client:
        return client.get(path)


def test_the_owner_downloads_every_format_and_each_parses_back(
    server_url: str, engine: Engine, recorded: Recorded
) -> None:
    end_with_official_transcript(engine, recorded.conversation_id)
    cid = recorded.conversation_id
    said = [(speaker, " ".join(text.split())) for speaker, text in recorded.spoken]

    response = _get(server_url, export_path(cid, "json"))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["content-disposition"] == (
        f'attachment; filename="{cid}-transcript.json"'
    )
    assert response.headers["cache-control"] == "no-store"
    data = response.json()
    assert data["source"] == "official"
    spoken = [line for line in data["lines"] if line["role"] != "system"]
    assert [(line["speaker"], line["text"]) for line in spoken] == recorded.spoken

    markdown = _get(server_url, export_path(cid, "md"))
    assert markdown.headers["content-type"].startswith("text/markdown")
    assert [
        (label.split("] ")[1].rstrip(":"), text) for label, text in markdown_lines(markdown.text)
    ] == said

    captions = _get(server_url, export_path(cid, "vtt"))
    assert captions.headers["content-type"].startswith("text/vtt")
    assert [(speaker, text) for speaker, text, _, _ in vtt_cues(captions.text)] == said

    raw = _get(server_url, export_path(cid, "jsonl"))
    assert raw.headers["content-type"] == "application/x-ndjson"
    records = jsonl_records(raw.text)
    assert len(records) == recorded.events + 2
    assert all("message" in record for record in records)


@pytest.mark.parametrize(
    "owner",
    [
        None,
        "",
        "made-up.value",
        COOKIES.mint(),  # another browser's valid cookie
        OWNER,  # the stored identity is no credential
        OwnerCookies(key=b"other-key" * 4).mint(),  # signed by another deployment
    ],
)
def test_another_browser_gets_not_found(server_url: str, recorded: Recorded, owner) -> None:
    for fmt in ("json", "md", "vtt", "jsonl"):
        response = _get(server_url, export_path(recorded.conversation_id, fmt), owner=owner)
        assert response.status_code == 404
        assert response.json() == {"error": "not found"}


def test_unknown_conversations_and_formats_are_not_found(
    server_url: str, recorded: Recorded
) -> None:
    assert _get(server_url, export_path("c-missing", "json")).status_code == 404
    assert _get(server_url, export_path(recorded.conversation_id, "exe")).status_code == 404
    assert _get(server_url, export_path(recorded.conversation_id, "json") + "x").status_code == 404


def test_a_long_conversation_exports_whole_across_store_pages(
    server_url: str, engine: Engine
) -> None:
    cid, count = "c-long", 2_345
    add_conversation(engine, cid, owner_session=OWNER)
    events = [
        new_event_from_protocol(
            UtteranceEvent(
                conversation_id=cid,
                seq=seq,
                inference_id=f"i{seq}",
                timestamp=1_770_000_000.0 + seq,
                properties=UtteranceProperties(
                    role="user" if seq % 2 else "replica", speech=f"line {seq}"
                ),
            ),
            source="room",
        )
        for seq in range(1, count + 1)
    ]
    with session_scope(engine) as s:
        insert_events(s, events=events)

    cues = vtt_cues(_get(server_url, export_path(cid, "vtt")).text)
    assert [text for _, text, _, _ in cues] == [f"line {seq}" for seq in range(1, count + 1)]
    starts = [start for _, _, start, _ in cues]
    assert starts == sorted(starts)
    records = jsonl_records(_get(server_url, export_path(cid, "jsonl")).text)
    assert [r["seq"] for r in records] == list(range(1, count + 1))
    assert len(json.loads(_get(server_url, export_path(cid, "json")).text)["lines"]) == count
