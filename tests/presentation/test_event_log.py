"""The room's event log: one row per event, and one row per turn's partials or echo's chunks."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from cvi_app.live.updates import EventReceived, InteractionSent, LiveUpdate, OperatorNote
from cvi_app.presentation.live_feed import FeedPresenter
from cvi_app.presentation.rows import RAW_PREVIEW_CHARS, event_row
from cvi_app.protocol import echo_text, respond, split_echo_audio, split_echo_text
from tests.presentation.helpers import BROWSER_HEAD, CID, merged, received, streaming


def rows_of(updates: list[LiveUpdate]) -> list[dict[str, Any]]:
    presenter = FeedPresenter()
    return [row for update in updates if (row := presenter.present(update)[1]) is not None]


def a_turn(partials: int, *, inference_id: str = "inf-1", first_seq: int = 8) -> list[LiveUpdate]:
    """A replica turn: started speaking, its utterance, then its streaming partials."""
    words = [f"w{n}" for n in range(partials)]
    return [
        received("conversation.replica.started_speaking", inference_id=inference_id, seq=first_seq),
        received(
            "conversation.utterance",
            {"role": "replica", "speech": " ".join(words)},
            inference_id=inference_id,
            seq=first_seq + 1,
        ),
        *[
            streaming(
                " ".join(words[: n + 1]),
                n,
                final=n == partials - 1,
                inference_id=inference_id,
                first_seq=first_seq + 2,
            )
            for n in range(partials)
        ],
    ]


def test_an_event_row_says_when_which_way_what_and_shows_it_raw() -> None:
    at = datetime(2026, 12, 2, 7, 1, 2, 345_000, tzinfo=UTC)
    update = received(
        "conversation.tool_call", {"name": "get_weather", "arguments": '{"city": "Paris"}'}, seq=7
    ).model_copy(update={"at": at})
    row = event_row(update)
    assert row is not None
    assert (row["id"], row["seq"], row["type"], row["dir"]) == (
        "e-7",
        7,
        "conversation.tool_call",
        "received",
    )
    assert row["at"] == at.timestamp() * 1000
    assert row["summary"] == 'get_weather({"city": "Paris"})'
    assert json.loads(row["raw"])["event_type"] == "conversation.tool_call"


def test_a_huge_event_shows_a_capped_preview_that_still_parses() -> None:
    row = event_row(
        received("conversation.utterance", {"role": "replica", "speech": "x" * 50_000}, seq=1)
    )
    assert row is not None
    assert len(row["raw"]) <= RAW_PREVIEW_CHARS + 2
    assert json.loads(row["raw"])["properties"]["speech"].startswith("xxx")
    assert row["summary"] == "replica: " + "x" * 89 + "…"


def test_every_sent_interaction_gets_its_own_row_marked_sent() -> None:
    ids = []
    for n in range(50):
        row = event_row(InteractionSent(interaction=respond(CID, f"message {n}")))  # freed at once
        assert row is not None
        assert (row["type"], row["dir"], row["summary"]) == (
            "conversation.respond",
            "sent",
            f"message {n}",
        )
        ids.append(row["id"])
    assert len(set(ids)) == len(ids)


def test_a_turns_streaming_partials_are_one_row_updated_in_place() -> None:
    rows = rows_of(a_turn(20))
    shown = list(merged(rows).values())
    assert [row["type"] for row in shown] == [
        "conversation.replica.started_speaking",
        "conversation.utterance",
        "conversation.utterance.streaming",
    ]
    turn = shown[-1]
    assert turn["count"] == 20 and turn["seq"] == 10, "the row is named by its first partial"
    assert turn["summary"] == "replica: " + " ".join(f"w{n}" for n in range(20))
    assert json.loads(turn["raw"])["properties"]["final"] is True, "it shows the latest partial"
    assert [m["seq"] for m in turn["head"]] == [10, 11, 12]
    assert [m["seq"] for m in turn["tail"]] == [27, 28, 29]
    assert turn["tail"][-1]["text"].endswith("w18 w19")


def test_two_turns_are_two_rows() -> None:
    turns = [*a_turn(4, inference_id="a"), *a_turn(4, inference_id="b", first_seq=20)]
    shown = merged(rows_of(turns))
    streamed = [row for row in shown.values() if row["type"].endswith(".streaming")]
    assert [row["count"] for row in streamed] == [4, 4]


def test_a_group_rows_update_stays_small_however_long_the_group() -> None:
    rows = rows_of(a_turn(2_000))
    assert {row["id"] for row in rows[2:]} == {"e-10"}
    between = rows[3:-1]
    assert {frozenset(row) for row in between} == {frozenset({"id", "count", "summary", "message"})}
    # An update is the same few fields, however many came before (the count grows a digit).
    sizes = [len(json.dumps(row)) for row in between[100:]]
    assert max(sizes) - min(sizes) <= 8
    assert set(rows[-1]) == {"id", "count", "summary", "message", "raw", "closed"}
    assert len(rows[-1]["raw"]) <= RAW_PREVIEW_CHARS + 2


def test_an_open_groups_json_is_its_first_message_and_a_closed_ones_its_last() -> None:
    turn = a_turn(5)
    opened = merged(rows_of(turn[:-1]))["e-10"]
    assert json.loads(opened["raw"])["seq"] == 10 and "closed" not in opened
    closed = merged(rows_of(turn))["e-10"]
    assert json.loads(closed["raw"])["seq"] == 14 and closed["closed"] is True
    interrupted = streaming("w0 w1", 2, is_interrupted=True)
    cut = merged(rows_of([*turn[:-2], interrupted]))["e-10"]
    assert json.loads(cut["raw"])["properties"]["is_interrupted"] is True


def test_a_two_second_audio_echo_is_one_row_that_never_carries_the_audio() -> None:
    chunks = split_echo_audio(CID, b"\x00\x01" * 48_000, sample_rate=24_000)
    assert len(chunks) > 20
    rows = rows_of([InteractionSent(interaction=chunk) for chunk in chunks])
    assert len(rows) == len(chunks) and {row["id"] for row in rows} == {rows[0]["id"]}
    assert rows[0]["summary"].endswith(" s so far")
    [echo] = merged(rows).values()
    assert (echo["type"], echo["dir"], echo["count"]) == ("conversation.echo", "sent", len(chunks))
    assert echo["summary"] == "audio echo, 2.0 s"
    assert all('"audio":' not in json.dumps(row) for row in rows)
    last = json.loads(echo["raw"])
    assert last["properties"]["done"] is True and last["properties"]["audio_bytes"] > 0
    assert len(echo["head"]) == BROWSER_HEAD and echo["head"][0]["text"].endswith("bytes of audio")


def test_a_chunked_text_echo_is_one_row_with_its_whole_text() -> None:
    text = " ".join(f"word{i}" for i in range(1500))
    chunks = split_echo_text(CID, text)
    assert len(chunks) > 1
    [echo] = merged(rows_of([InteractionSent(interaction=c) for c in chunks])).values()
    assert echo["count"] == len(chunks)
    assert echo["summary"] == text[:89] + "…"


def test_echoes_and_other_sent_interactions_stay_apart() -> None:
    shown = merged(
        rows_of(
            [
                InteractionSent(interaction=echo_text(CID, "first", inference_id="e1")),
                InteractionSent(interaction=respond(CID, "between")),
                InteractionSent(interaction=echo_text(CID, "second", inference_id="e2")),
            ]
        )
    )
    assert [(row["summary"], row["count"] if "count" in row else 1) for row in shown.values()] == [
        ("first", 1),
        ("between", 1),
        ("second", 1),
    ]


def test_a_stored_moment_without_a_zone_is_taken_as_utc() -> None:
    naive = datetime(2026, 12, 2, 7, 1, 2, 345_000)
    update = EventReceived(event=received("system.replica_joined").event, at=naive)
    row = event_row(update)
    assert row is not None and row["at"] == naive.replace(tzinfo=UTC).timestamp() * 1000


def test_what_an_operator_did_is_a_row_of_its_own_naming_them() -> None:
    note = OperatorNote(actor="ada@example.com", action="interrupted the replica")
    row = event_row(note)
    assert row is not None
    assert (row["dir"], row["type"]) == ("operator", "operator")
    assert row["summary"] == "ada@example.com interrupted the replica"
    assert json.loads(row["raw"]) == {
        "actor": "ada@example.com",
        "action": "interrupted the replica",
    }
    assert rows_of([note, note])[0]["id"] != rows_of([note])[0]["id"]
