"""Events are put in seq order and pal/replica twins are shown once."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cvi_app.protocol import Event, TwinFilter, is_twin, order_by_seq, parse_event

from .strategies import FAST


def _event(event_type: str = "conversation.user.started_speaking", **fields: Any) -> Event:
    return parse_event({"event_type": event_type, "conversation_id": "c1", **fields})


def _utterance(role: str, speech: str = "We have three plans.", **fields: Any) -> Event:
    return _event(
        "conversation.utterance",
        inference_id="inf-1",
        properties={"role": role, "speech": speech},
        **fields,
    )


def test_events_are_sorted_by_seq() -> None:
    events = [_event(seq=3), _event(seq=1), _event(seq=2)]
    assert [e.seq for e in order_by_seq(events)] == [1, 2, 3]


def test_equal_seq_keeps_arrival_order() -> None:
    first, second = _event(seq=5, turn_idx=1), _event(seq=5, turn_idx=2)
    assert order_by_seq([first, second]) == [first, second]


def test_event_without_seq_stays_right_after_the_event_it_followed() -> None:
    a, b, c = _event(seq=5), _event(seq=3), _event(seq=4)
    joined = _event("system.replica_joined")
    assert order_by_seq([a, joined, b, c]) == [b, c, a, joined]


def test_events_without_seq_before_any_sequenced_one_stay_first() -> None:
    early1, early2 = _event("system.replica_joined"), _event("system.pal_joined")
    late = _event(seq=1)
    assert order_by_seq([early1, early2, late]) == [early1, early2, late]


@FAST
@given(st.lists(st.none() | st.integers(min_value=0, max_value=20), max_size=30))
def test_ordering_is_a_stable_permutation_sorted_by_seq(seqs: list[int | None]) -> None:
    events = [_event(seq=seq, turn_idx=index) for index, seq in enumerate(seqs)]
    ordered = order_by_seq(events)
    assert sorted(e.turn_idx or 0 for e in ordered) == list(range(len(events)))
    sequenced = [e for e in ordered if e.seq is not None]
    assert [e.seq for e in sequenced] == sorted(e.seq for e in sequenced if e.seq is not None)
    for left, right in zip(sequenced, sequenced[1:], strict=False):
        if left.seq == right.seq:
            assert (left.turn_idx or 0) < (right.turn_idx or 0)


def test_pal_and_replica_utterances_with_same_text_are_twins() -> None:
    pal, replica = _utterance("pal", seq=4), _utterance("replica", seq=5)
    assert is_twin(pal, replica) and is_twin(replica, pal)


@pytest.mark.parametrize(
    "other",
    [
        _utterance("replica", speech="Something else."),
        _utterance("pal"),
        _utterance("user"),
        _event(
            "conversation.utterance",
            inference_id="inf-2",
            properties={"role": "replica", "speech": "We have three plans."},
        ),
        _event(
            "conversation.utterance.streaming",
            inference_id="inf-1",
            properties={"role": "replica", "speech": "We have three plans."},
        ),
    ],
)
def test_events_that_differ_are_not_twins(other: Event) -> None:
    assert not is_twin(_utterance("pal"), other)


def test_users_are_never_twins() -> None:
    user = _utterance("user")
    assert not is_twin(user, user)


def test_speaking_events_are_twins_across_pal_and_replica() -> None:
    props = {"duration": 2.5, "interrupted": False}
    pal = _event("conversation.stopped_speaking", properties={"role": "pal", **props})
    replica = _event("conversation.stopped_speaking", properties={"role": "replica", **props})
    assert is_twin(pal, replica)
    longer = _event(
        "conversation.stopped_speaking",
        properties={"role": "replica", "duration": 9.0, "interrupted": False},
    )
    assert not is_twin(pal, longer)


def test_joined_events_are_twins() -> None:
    pal = _event("system.pal_joined", message_type="system")
    replica = _event(
        "system.replica_joined", message_type="system", properties={"replica_id": "r1"}
    )
    assert is_twin(pal, replica)
    assert not is_twin(replica, replica)


def test_filter_keeps_the_first_of_a_pair_and_drops_its_twin() -> None:
    twins = TwinFilter()
    pal, replica = _utterance("pal", seq=4), _utterance("replica", seq=5)
    assert [twins.admit(pal), twins.admit(replica)] == [True, False]


def test_filter_keeps_whichever_twin_comes_first() -> None:
    twins = TwinFilter()
    assert twins.admit(_utterance("replica"))
    assert not twins.admit(_utterance("pal"))


def test_filter_keeps_a_repeat_after_a_pair_was_matched() -> None:
    twins = TwinFilter()
    kept = [twins.admit(_utterance(role)) for role in ("pal", "replica", "pal", "replica")]
    assert kept == [True, False, True, False]


def test_filter_keeps_events_from_the_same_role_and_other_kinds() -> None:
    twins = TwinFilter()
    events = [
        _utterance("replica"),
        _utterance("replica"),
        _utterance("user"),
        _utterance("user"),
        _event(seq=1),
        _event(seq=1),
    ]
    assert all(twins.admit(event) for event in events)


def test_filter_drops_streaming_twins_chunk_by_chunk() -> None:
    twins = TwinFilter()
    kept = []
    for index, text in enumerate(["We", "We have", "We have three plans."]):
        for role in ("pal", "replica"):
            event = _event(
                "conversation.utterance.streaming",
                inference_id="inf-1",
                properties={"role": role, "speech": text, "content_index": index},
            )
            if twins.admit(event):
                kept.append(event)
    assert [(e.role, e.properties.speech) for e in kept] == [  # type: ignore[union-attr]
        ("pal", "We"),
        ("pal", "We have"),
        ("pal", "We have three plans."),
    ]


def test_filter_memory_is_bounded() -> None:
    twins = TwinFilter(max_pending=4)
    assert twins.admit(_utterance("pal", speech="first"))
    for index in range(4):
        assert twins.admit(_utterance("pal", speech=f"other {index}"))
    # The first pal utterance was forgotten, so its late twin is kept rather than dropped.
    assert twins.admit(_utterance("replica", speech="first"))


def test_filter_needs_room_for_one_event() -> None:
    with pytest.raises(ValueError):
        TwinFilter(max_pending=0)
