"""Fuzzing the whole inbound path: room app-message -> ConversationSession (trust, parse, order,
dedupe) -> StoreRecorder on a real SQLite store -> published updates -> the presenter functions
that build the room's transcript lines, event rows and tool rows.

Thousands of malformed, oversized, wrong-typed, misaddressed, repeated and out-of-order inputs:
nothing escapes, every rejection is counted and logged with its reason, the valid events in the
mix are published and stored once each in `seq` order, and the replica still answers afterwards.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from cvi_app.live.updates import EventReceived, LiveUpdate, ToolCallUpdate
from cvi_app.presentation.live_feed import FeedPresenter
from cvi_app.presentation.rows import RAW_PREVIEW_CHARS, event_row, tool_row
from cvi_app.protocol import MAX_APP_MESSAGE_BYTES, message_size
from cvi_app.sandbox.rooms import LocalParticipant
from tests.live.conftest import Live
from tests.reliability.conftest import stored_events
from tests.reliability.inputs import Step, scripts
from tests.support.sandbox import LiveSandbox
from tests.support.servers import wait_for

FIRST_SEQ = 1_000_000
"""Fuzzed events follow the real replica's own stream, far above its `seq` values."""

FUZZ = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)
STRANGER = "p-not-in-the-room"
WHY = re.compile(r"rejected event (from replica: \S.*|for another conversation '.+)", re.DOTALL)


@dataclass
class Fuzzed:
    """A live session being fuzzed, and the running totals of what it was sent."""

    live: Live
    sender: str
    next_seq: int
    inputs: int = 0
    invalid: int = 0
    presenter: FeedPresenter = field(default_factory=FeedPresenter)
    seen: int = 0

    def new_updates(self) -> list[LiveUpdate]:
        updates = self.live.seen.updates
        fresh, self.seen = updates[self.seen :], len(updates)
        return fresh


def rejections(caplog: pytest.LogCaptureFixture, since: int) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records[since:]
        if record.name == "cvi_app.live.inbound" and record.levelno == logging.WARNING
    ]


def play(fuzzed: Fuzzed, script: list[Step]) -> tuple[int, int]:
    """Deliver a script as the room would; return (valid events, invalid inputs) in it."""
    base = fuzzed.next_seq
    for step in script:
        if step.kind == "valid":
            fuzzed.live.session.handle_app_message(
                {**step.payload, "seq": base + step.index}, fuzzed.sender
            )
        elif step.kind == "invalid":
            fuzzed.live.session.handle_app_message(step.payload, fuzzed.sender)
        else:
            fuzzed.live.session.handle_app_message(step.payload, STRANGER)
        fuzzed.inputs += 1
    valid = len({step.index for step in script if step.kind == "valid"})
    invalid = sum(step.kind == "invalid" for step in script)
    fuzzed.next_seq += valid
    fuzzed.invalid += invalid
    return valid, invalid


def present(fuzzed: Fuzzed, updates: list[LiveUpdate]) -> None:
    """Build every UI row the room would build from these updates."""
    for update in updates:
        fuzzed.presenter.lines(update)
        row = event_row(update)
        if row is not None:
            assert len(row["raw"]) <= RAW_PREVIEW_CHARS + 2
            assert len(row["summary"]) <= 200
        if isinstance(update, ToolCallUpdate):
            tool_row(update)


@pytest.fixture
async def fuzzed(sandbox: LiveSandbox, open_session: Any) -> Fuzzed:
    """A session in a sandbox conversation, greeted, with one fuzzed event already in place."""
    live = await open_session()
    await live.seen.wait(lambda: live.seen.turns_finished() >= 1, "the greeting")
    fuzzed = Fuzzed(live, sender=live.replica_id(), next_seq=FIRST_SEQ)
    fuzzed.new_updates()
    # The first jump past the replica's own `seq` is held for the gap, then released.
    live.session.handle_app_message(
        {"event_type": "conversation.some_future_event", "seq": FIRST_SEQ}, fuzzed.sender
    )
    fuzzed.next_seq += 1
    await live.seen.wait(
        lambda: any(
            isinstance(u, EventReceived) and u.event.seq == FIRST_SEQ for u in live.seen.updates
        ),
        "the first fuzzed event",
    )
    fuzzed.new_updates()
    return fuzzed


async def test_hostile_room_input_is_rejected_with_reasons_and_valid_events_land_in_order(
    fuzzed: Fuzzed, engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="cvi_app.live.session")
    session = fuzzed.live.session

    # Each example is delivered without yielding to the event loop, as one burst from the room.
    @FUZZ
    @given(data=st.data())
    def burst(data: st.DataObject) -> None:
        script = data.draw(scripts(fuzzed.live.cid))
        base, rejected_before, log_mark = fuzzed.next_seq, session.rejected, len(caplog.records)

        valid, invalid = play(fuzzed, script)

        assert session.status == "live"
        assert session.rejected - rejected_before == invalid
        reasons = rejections(caplog, log_mark)
        assert len(reasons) == invalid
        for reason in reasons:
            assert WHY.fullmatch(reason.removeprefix(f"conversation {fuzzed.live.cid}: ")), reason
        updates = fuzzed.new_updates()
        published = [u.event.seq for u in updates if isinstance(u, EventReceived)]
        assert published == list(range(base, base + valid))
        present(fuzzed, updates)

    burst()

    assert fuzzed.inputs > 2000, "the fuzz run should cover thousands of inputs"
    assert session.rejected == fuzzed.invalid
    await fuzzed.live.writer.flush()
    fuzzed_rows = [
        row.seq
        for row in stored_events(engine, fuzzed.live.cid)
        if row.seq is not None and row.seq >= FIRST_SEQ
    ]
    assert fuzzed_rows == list(range(FIRST_SEQ, fuzzed.next_seq))  # once each, in seq order

    # The conversation goes on: the replica still answers, and its answer is stored.
    turns = fuzzed.live.seen.turns_finished()
    await session.respond("Are you still with me?")
    await fuzzed.live.seen.wait(lambda: fuzzed.live.seen.turns_finished() > turns, "the answer")
    await fuzzed.live.writer.flush()
    texts = [row.text for row in stored_events(engine, fuzzed.live.cid)]
    assert "Are you still with me?" in texts
    assert fuzzed.live.seen.replica_lines()[-1] in texts


def room_sendable(message: Any) -> bool:
    """Whether the sandbox room would carry this (a JSON object within Daily's 4 KB)."""
    if not isinstance(message, dict):
        return False
    try:
        # The room's frames are strict JSON: NaN or infinity would arrive as null.
        json.dumps(message, allow_nan=False)
        return message_size(message) <= MAX_APP_MESSAGE_BYTES
    except (TypeError, ValueError, RecursionError):
        return False


def for_the_room(script: list[Step], base: int) -> list[tuple[str, dict[str, Any]]]:
    """The script's inputs the room can carry, valid events numbered on from `base`."""
    numbered = {}
    for step in script:
        if step.kind == "valid" and step.index not in numbered:
            if room_sendable({**step.payload, "seq": 0}):
                numbered[step.index] = base + len(numbered)
    out = []
    for step in script:
        if step.kind == "valid":
            if step.index in numbered:
                out.append(("valid", {**step.payload, "seq": numbered[step.index]}))
        elif room_sendable(step.payload):
            out.append((step.kind, step.payload))
    return out


@dataclass
class RoomFuzz:
    """A session in a bare room, with a replica and a stranger the test speaks for."""

    live: Live
    replica: LocalParticipant
    stranger: LocalParticipant
    next_seq: int = 0


@pytest.fixture
async def room_fuzz(sandbox: LiveSandbox, open_session: Any) -> RoomFuzz:
    # A long gap timeout: frames cross a real socket, and order must not depend on timing.
    live = await open_session(bare_room="c-fuzz-room", session_options={"gap_timeout": 30.0})
    room = sandbox.parts.hub.get("c-fuzz-room")
    assert room is not None
    replica = await room.join(user_name="tavus-replica", is_replica=True)
    stranger = await room.join(user_name="mallory")
    await wait_for(lambda: live.transport.is_replica(replica.id), what="the replica to be seen")
    return RoomFuzz(live, replica, stranger)


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(data=st.data())
async def test_hostile_input_through_the_room_socket_is_handled_alike(
    room_fuzz: RoomFuzz, data: st.DataObject
) -> None:
    live, session = room_fuzz.live, room_fuzz.live.session
    base = room_fuzz.next_seq
    inputs = for_the_room(data.draw(scripts(live.cid)), base)
    valid = len({m["seq"] for kind, m in inputs if kind == "valid"})
    invalid = sum(kind == "invalid" for kind, _ in inputs)
    rejected_before, seen_before = session.rejected, len(live.seen.updates)

    for kind, message in inputs:
        sender = room_fuzz.stranger if kind == "foreign" else room_fuzz.replica
        sender.send_nowait(message)
    # Frames from one sender arrive in order: once this one is in, everything before it is.
    sentinel = base + valid
    room_fuzz.replica.send_nowait({"event_type": "conversation.fuzz_done", "seq": sentinel})
    room_fuzz.next_seq = sentinel + 1
    await live.seen.wait(
        lambda: any(
            isinstance(u, EventReceived) and u.event.seq == sentinel
            for u in live.seen.updates[seen_before:]
        ),
        "the end of the burst",
    )

    assert session.status == "live"
    assert session.rejected - rejected_before == invalid
    published = [
        u.event.seq for u in live.seen.updates[seen_before:] if isinstance(u, EventReceived)
    ]
    assert published == list(range(base, sentinel + 1))
