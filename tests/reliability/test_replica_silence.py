"""A replica that goes silent: a turn that gets no word from the replica within the session's
`reply_timeout` makes the session tell the tabs, and the first word after that clears it.

The silent replica is a real room participant marked as the replica (in a bare sandbox room,
where the sandbox seats no replica of its own), so the trust check sees it as Tavus.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine

from cvi_app.protocol import UtteranceEvent, UtteranceProperties
from cvi_app.sandbox.rooms import LocalParticipant
from tests.live.conftest import Live
from tests.reliability.conftest import notices, stored_events
from tests.support.sandbox import LiveSandbox, start_sandbox
from tests.support.servers import wait_for

REPLY_TIMEOUT = 0.3


async def seat_silent_replica(
    sandbox: LiveSandbox, live: Live, heard: list[dict[str, Any]]
) -> LocalParticipant:
    """Seat a replica that hears everything and says nothing unless told to."""
    room = sandbox.parts.hub.get(live.cid)
    assert room is not None

    def hear(data: dict[str, Any], _from: str) -> None:
        heard.append(data)

    replica = await room.join(user_name="tavus-replica", is_replica=True, on_app_message=hear)
    await wait_for(lambda: live.transport.is_replica(replica.id), what="the replica to be seen")
    return replica


def utterance(live: Live, role: str, speech: str, seq: int) -> dict[str, Any]:
    event = UtteranceEvent(
        conversation_id=live.cid,
        seq=seq,
        inference_id=f"inf-{seq}",
        properties=UtteranceProperties(role=role, speech=speech),  # type: ignore[arg-type]
    )
    return event.to_message()


async def test_a_replica_that_does_not_answer_is_reported_and_its_late_answer_clears_it(
    sandbox: LiveSandbox, open_session: Any, engine: Engine
) -> None:
    live = await open_session(
        bare_room="c-silent", session_options={"reply_timeout": REPLY_TIMEOUT}
    )
    heard: list[dict[str, Any]] = []
    replica = await seat_silent_replica(sandbox, live, heard)

    await live.session.respond("Are you there?")
    # Tavus repeats the user's turn at once; that is not an answer from the replica.
    await wait_for(lambda: heard, what="the replica to hear the turn")
    replica.send_nowait(utterance(live, "user", "Are you there?", seq=1))

    await live.seen.wait(lambda: notices(live, "replica"), "the silence notice")
    [silent] = notices(live, "replica")
    assert silent.active and silent.text == "The replica has not answered for 0.3 s."
    assert live.session.replica_silent and live.session.status == "live"

    replica.send_nowait(utterance(live, "replica", "Sorry, I am here.", seq=2))
    await live.seen.wait(lambda: len(notices(live, "replica")) == 2, "the all-clear")
    cleared = notices(live, "replica")[1]
    assert not cleared.active and cleared.text == "The replica is answering again."
    assert not live.session.replica_silent

    # Nothing was lost meanwhile: the turn and both events are stored, in order.
    await live.writer.flush()
    rows = stored_events(engine, live.cid)
    assert [(row.source, row.text) for row in rows] == [
        ("app", "Are you there?"),
        ("room", "Are you there?"),
        ("room", "Sorry, I am here."),
    ]


async def test_a_long_answer_is_not_taken_for_silence(open_session: Any) -> None:
    words = " ".join(f"word{i}" for i in range(24))
    async with start_sandbox(words_per_second=20.0) as slow:
        live = await open_session(where=slow, session_options={"reply_timeout": REPLY_TIMEOUT})
        await live.seen.wait(lambda: live.seen.turns_finished() >= 1, "the greeting")

        await live.session.echo(words)  # about 1.2 s of speech, far past the reply timeout
        await live.seen.wait(lambda: live.seen.turns_finished() >= 2, "the echo to be spoken")

        assert live.seen.replica_lines()[-1] == words
        assert notices(live, "replica") == [] and not live.session.replica_silent
        await live.session.close("test over")
