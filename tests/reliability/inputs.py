"""Hypothesis strategies for what can reach a session from its room: valid events, inputs that
must be rejected, and scripts mixing both, out of order and with repeats.

Valid events get their `seq` when a script is played (so they follow the session's stream);
every input built as invalid is one the protocol rules reject (PROTOCOL.md, "Rule:" on inbound
events), whatever is drawn.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from hypothesis import strategies as st

from tests.protocol.strategies import json_objects, json_values

Kind = Literal["valid", "invalid", "foreign"]

ROLES = ["user", "replica"]  # `pal` twins of replica events are dropped by design
# Mostly short text; now and then far past any app-message limit (there is no inbound limit).
speech = st.integers(min_value=0, max_value=15).flatmap(
    lambda pick: (
        st.integers(min_value=5_000, max_value=100_000).map(lambda n: "long " * (n // 5))
        if pick == 0
        else st.text(max_size=60)
    )
)
ids = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=16)


@st.composite
def valid_events(draw: st.DrawFn, conversation_id: str) -> dict[str, Any]:
    """An event the session must accept (no `seq` yet; never `system.shutdown`)."""
    role = draw(st.sampled_from(ROLES))
    by_type: dict[str, st.SearchStrategy[Any]] = {
        "conversation.utterance": st.fixed_dictionaries(
            {"role": st.just(role), "speech": speech},
            optional={"interrupted": st.booleans(), "user_audio_analysis": st.text(max_size=20)},
        ),
        "conversation.utterance.streaming": st.fixed_dictionaries(
            {"role": st.just(role), "speech": speech},
            optional={
                "content_index": st.integers(min_value=0, max_value=50),
                "final": st.booleans(),
            },
        ),
        "conversation.tool_call": st.fixed_dictionaries(
            {
                # Sometimes a tool the app answers by itself, with whatever arguments.
                "name": st.sampled_from(["get_weather", "lookup_order"])
                | st.text(min_size=1, max_size=30).filter(str.strip),
                "arguments": json_objects.map(json.dumps)
                | json_objects
                | st.just("")
                | st.fixed_dictionaries({"city": st.text(max_size=20)}),
            },
            optional={"tool_call_id": ids},
        ),
        "conversation.perception_analysis": st.fixed_dictionaries({"analysis": speech}),
        "conversation.replica.started_speaking": st.none(),
        "conversation.replica.stopped_speaking": st.fixed_dictionaries(
            {},
            optional={
                "duration": st.none() | st.floats(min_value=0, max_value=1e4),
                "interrupted": st.booleans(),
            },
        ),
        "conversation.user.started_speaking": st.none(),
        "conversation.user.stopped_speaking": st.none(),
        "conversation.started_speaking": st.fixed_dictionaries({"role": st.just(role)}),
        "conversation.replica_interrupted": st.none(),
        "system.replica_joined": st.fixed_dictionaries({"replica_id": ids}),
        # Unknown types are kept as generic events, whatever their properties.
        "conversation.some_future_event": json_objects,
    }
    event_type = draw(st.sampled_from(sorted(by_type)))
    message: dict[str, Any] = {"event_type": event_type}
    where = draw(st.sampled_from(["ours", "omitted", "empty"]))
    if where == "ours":
        message["conversation_id"] = conversation_id
    elif where == "empty":
        message["conversation_id"] = ""
    if draw(st.booleans()):
        message["message_type"] = "system" if event_type.startswith("system.") else "conversation"
    for key, value in (
        ("turn_idx", st.integers(min_value=0, max_value=10_000)),
        ("inference_id", ids),
        ("timestamp", st.floats(min_value=0, max_value=4e9)),
    ):
        if draw(st.booleans()):
            message[key] = draw(value)
    props = draw(by_type[event_type])
    if props is not None:
        message["properties"] = props
    return message


_WRONG_INTS = st.sampled_from(["7", 1.5, [1], {"n": 1}, True, "", None, float("inf")])


@st.composite
def invalid_inputs(draw: st.DrawFn, conversation_id: str) -> Any:
    """Something the session must reject: malformed, wrong-typed, oversized or misaddressed."""
    base = draw(valid_events(conversation_id))
    how = draw(
        st.sampled_from(
            [
                "not_an_object",
                "json_text_not_an_object",
                "truncated_json",
                "not_utf8",
                "no_event_type",
                "event_type_not_text",
                "seq_not_int",
                "turn_idx_not_int",
                "properties_not_object",
                "utterance_missing_field",
                "utterance_wrong_type",
                "bad_role",
                "tool_call_bad_arguments",
                "timestamp_not_number",
                "another_conversation",
                "deeply_nested_text",
                "deeply_nested_object",
                "oversized_garbage",
            ]
        )
    )
    if how == "not_an_object":
        return draw(st.lists(json_values, max_size=3) | st.integers() | st.none() | st.booleans())
    if how == "json_text_not_an_object":
        return json.dumps(draw(st.lists(json_values, max_size=3) | st.text(max_size=20)))
    if how == "truncated_json":
        text = json.dumps(base)
        return text[: draw(st.integers(min_value=0, max_value=len(text) - 1))]
    if how == "not_utf8":
        return b"\xff\xfe" + draw(st.binary(max_size=30))
    if how == "no_event_type":
        base.pop("event_type")
        return base
    if how == "event_type_not_text":
        base["event_type"] = draw(st.integers() | st.lists(st.text(max_size=5)) | st.none())
        return base
    if how in ("seq_not_int", "turn_idx_not_int"):
        base[how.removesuffix("_not_int")] = draw(_WRONG_INTS.filter(lambda v: v is not None))
        return base
    if how == "properties_not_object":
        base["event_type"] = "conversation.utterance"
        base["properties"] = draw(st.lists(json_values, max_size=3) | st.text() | st.integers())
        return base
    if how == "utterance_missing_field":
        missing = draw(st.sampled_from(["role", "speech"]))
        props = {"role": "user", "speech": "hello"}
        del props[missing]
        return {**base, "event_type": "conversation.utterance", "properties": props}
    if how == "utterance_wrong_type":
        wrong = draw(st.integers() | st.lists(st.text(max_size=5), max_size=2) | st.booleans())
        props = {"role": "replica", "speech": wrong}
        return {**base, "event_type": "conversation.utterance", "properties": props}
    if how == "bad_role":
        role = draw(st.text(max_size=10).filter(lambda r: r not in ("user", "replica", "pal")))
        props = {"role": role, "speech": "hi"}
        return {**base, "event_type": "conversation.utterance", "properties": props}
    if how == "tool_call_bad_arguments":
        arguments = draw(st.sampled_from(["{not json", "[1, 2]", "42", '"text"']))
        props = {"name": "get_weather", "arguments": arguments}
        return {**base, "event_type": "conversation.tool_call", "properties": props}
    if how == "timestamp_not_number":
        base["timestamp"] = draw(st.sampled_from(["yesterday", [1.0], float("nan")]))
        return base
    if how == "another_conversation":
        base["conversation_id"] = "c-other-" + draw(ids)
        return base
    depth = draw(st.integers(min_value=2_000, max_value=20_000))
    if how == "deeply_nested_text":
        brackets = "[" * depth + "]" * depth
        return f'{{"event_type": "conversation.utterance", "properties": {brackets}}}'
    if how == "deeply_nested_object":
        nested: Any = []
        for _ in range(depth):
            nested = [nested]
        return {**base, "extra": nested}
    garbage = draw(st.integers(min_value=100_000, max_value=1_000_000))
    return "{" + "x" * garbage


@dataclass(frozen=True)
class Step:
    """One input to deliver: what it is, and (for valid events) its place in the stream."""

    kind: Kind
    payload: Any
    index: int = -1
    """For a valid event: its position among the script's valid events (its `seq` offset)."""


@st.composite
def scripts(draw: st.DrawFn, conversation_id: str) -> list[Step]:
    """A burst of inputs as the room might deliver them: valid events out of order, repeats,
    invalid inputs and messages from participants who are not the replica, all interleaved."""
    valid = draw(st.lists(valid_events(conversation_id), min_size=1, max_size=16))
    steps = [Step("valid", event, index) for index, event in enumerate(valid)]
    if valid:
        repeats = draw(st.lists(st.sampled_from(steps), max_size=4))
        steps += repeats
    steps += [
        Step("invalid", p)
        for p in draw(st.lists(invalid_inputs(conversation_id), min_size=4, max_size=16))
    ]
    steps += [Step("foreign", p) for p in draw(st.lists(valid_events(conversation_id), max_size=2))]
    return draw(st.permutations(steps))
