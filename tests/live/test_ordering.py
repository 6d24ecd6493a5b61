"""SeqOrderer: a live stream of events put in `seq` order, repeats dropped, gaps not stalling."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from cvi_app.live.ordering import SeqOrderer
from cvi_app.protocol import Event, parse_event


def event(seq: int | None, speech: str = "") -> Event:
    raw = {
        "message_type": "conversation",
        "event_type": "conversation.utterance",
        "conversation_id": "c1",
        "properties": {"role": "replica", "speech": speech or f"line {seq}"},
    }
    if seq is not None:
        raw["seq"] = seq
    return parse_event(raw)


def seqs(events: list[Event]) -> list[int | None]:
    return [e.seq for e in events]


def test_events_in_order_pass_straight_through() -> None:
    orderer = SeqOrderer()
    for seq in (4, 5, 6):
        assert seqs(orderer.push(event(seq))) == [seq]
    assert not orderer.holding


def test_an_event_ahead_of_a_gap_waits_and_is_released_once_the_gap_fills() -> None:
    orderer = SeqOrderer()
    assert seqs(orderer.push(event(1))) == [1]
    assert orderer.push(event(4)) == []
    assert orderer.push(event(3)) == []
    assert orderer.holding
    assert seqs(orderer.push(event(2))) == [2, 3, 4]
    assert not orderer.holding


def test_a_gap_that_never_fills_is_given_up_in_order() -> None:
    orderer = SeqOrderer(gap_timeout=0.01)
    orderer.push(event(1))
    orderer.push(event(5))
    orderer.push(event(3))
    assert seqs(orderer.release_all()) == [3, 5]
    assert seqs(orderer.push(event(6))) == [6], "the stream goes on after the gap"
    assert orderer.release_all() == []


def test_a_repeated_seq_is_dropped_whether_delivered_or_still_held() -> None:
    orderer = SeqOrderer()
    orderer.push(event(1))
    assert orderer.push(event(1, "again")) == []
    orderer.push(event(3))
    assert orderer.push(event(3, "again")) == []
    assert seqs(orderer.push(event(2))) == [2, 3]
    assert orderer.duplicates == 2


def test_a_late_event_is_delivered_rather_than_lost_and_only_once() -> None:
    orderer = SeqOrderer()
    orderer.push(event(1))
    orderer.push(event(3))
    assert seqs(orderer.release_all()) == [3]
    assert seqs(orderer.push(event(2))) == [2]
    assert orderer.push(event(2)) == []


def test_events_without_seq_pass_straight_through_even_while_others_wait() -> None:
    orderer = SeqOrderer()
    orderer.push(event(1))
    orderer.push(event(3))
    assert seqs(orderer.push(event(None, "unnumbered"))) == [None]
    assert seqs(orderer.push(event(None, "unnumbered"))) == [None], "no seq, no repeat check"


def test_the_first_event_seen_starts_the_stream_wherever_it_is() -> None:
    orderer = SeqOrderer()
    assert seqs(orderer.push(event(41))) == [41]
    assert seqs(orderer.push(event(42))) == [42]


@given(st.permutations(range(1, 30)), st.lists(st.integers(1, 29), max_size=20))
def test_any_arrival_order_with_repeats_gives_each_seq_once_in_order(
    order: list[int], repeats: list[int]
) -> None:
    orderer = SeqOrderer()
    delivered: list[Event] = []
    arrivals = [0, *order]
    for i, extra in enumerate(repeats):
        arrivals.insert(min(len(arrivals), 2 + i * 2), extra)
    for seq in arrivals:
        delivered.extend(orderer.push(event(seq)))
    delivered.extend(orderer.release_all())
    assert seqs(delivered) == list(range(30))
