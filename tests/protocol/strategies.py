"""Hypothesis strategies for protocol tests: JSON values, valid interactions and events, text."""

from __future__ import annotations

import base64
import json
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from cvi_app.protocol import SENSITIVITY_LEVELS

# Moderate example counts keep the whole folder well under 30 s on a 2-core machine.
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
THOROUGH = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
json_objects = st.dictionaries(st.text(max_size=12), json_values, max_size=6)

non_blank_text = st.text(min_size=1, max_size=200).filter(lambda s: s.strip() != "")
conversation_ids = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=16
).map(lambda s: "c" + s)


@st.composite
def valid_interactions(draw: st.DrawFn) -> dict[str, Any]:
    """A raw dict of any documented interaction, valid by construction."""
    conversation_id = draw(conversation_ids)
    kind = draw(
        st.sampled_from(
            [
                "respond",
                "echo_text",
                "echo_audio",
                "interrupt",
                "overwrite",
                "append",
                "sens",
                "tool",
            ]
        )
    )
    props: dict[str, Any] | None
    if kind == "respond":
        event_type, props = "conversation.respond", {"text": draw(non_blank_text)}
    elif kind == "echo_text":
        event_type = "conversation.echo"
        props = {"text": draw(non_blank_text)}
        if draw(st.booleans()):
            props["modality"] = "text"
        done = draw(st.sampled_from([None, True, False, "true", "false"]))
        if done is not None:
            props["done"] = done
        inference_id = draw(st.none() | st.text(min_size=1, max_size=20))
        if inference_id is not None:
            props["inference_id"] = inference_id
    elif kind == "echo_audio":
        event_type = "conversation.echo"
        pcm = draw(st.binary(max_size=600))
        props = {"modality": "audio", "audio": base64.b64encode(pcm).decode()}
        if draw(st.booleans()):
            props["sample_rate"] = draw(st.sampled_from([16000, 24000, 44100, 48000]))
        props["done"] = draw(st.booleans()) or not pcm
    elif kind == "interrupt":
        event_type, props = "conversation.interrupt", draw(st.sampled_from([None, {}]))
    elif kind in ("overwrite", "append"):
        event_type = f"conversation.{kind}_llm_context"
        props = {"context": draw(non_blank_text)}
        if kind == "append" and draw(st.booleans()):
            props["job_status"] = "completed"
    elif kind == "sens":
        key = draw(
            st.sampled_from(["participant_pause_sensitivity", "participant_interrupt_sensitivity"])
        )
        event_type, props = (
            "conversation.sensitivity",
            {key: draw(st.sampled_from(SENSITIVITY_LEVELS))},
        )
    else:
        event_type = "conversation.tool_result"
        output = draw(st.text(max_size=200) | json_objects | st.lists(json_values, max_size=4))
        props = {"tool_call_id": draw(non_blank_text), "output": output}
        if draw(st.booleans()):
            props["status"] = draw(st.sampled_from(["success", "error"]))
    message: dict[str, Any] = {"event_type": event_type, "conversation_id": conversation_id}
    if draw(st.booleans()):
        message["message_type"] = "conversation"
    if props is not None:
        message["properties"] = props
    return message


@st.composite
def mutated(draw: st.DrawFn, base: st.SearchStrategy[dict[str, Any]]) -> dict[str, Any]:
    """A message with some fields dropped, replaced by arbitrary JSON, or given another type."""
    message = json.loads(json.dumps(draw(base)))
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        target = message
        props = message.get("properties")
        if isinstance(props, dict) and props and draw(st.booleans()):
            target = props
        if not target:
            break
        key = draw(st.sampled_from(sorted(target)))
        action = draw(st.sampled_from(["drop", "replace", "retype", "add"]))
        if action == "drop":
            del target[key]
        elif action == "replace":
            target[key] = draw(json_values)
        elif action == "retype":
            target[key] = _retype(target[key], draw(st.integers(min_value=0, max_value=5)))
        else:
            target[draw(st.text(max_size=10))] = draw(json_values)
    return message


@st.composite
def valid_events(draw: st.DrawFn) -> dict[str, Any]:
    """A raw dict of any known inbound event, valid by construction."""
    role = draw(st.sampled_from(["user", "replica", "pal"]))
    speech = draw(st.text(max_size=100))
    arguments = draw(json_objects)
    seconds = st.none() | st.floats(min_value=0, max_value=1e6, allow_nan=False)
    by_type: dict[str, dict[str, Any] | None] = {
        "conversation.utterance": {"role": role, "speech": speech},
        "conversation.utterance.streaming": {
            "role": role,
            "speech": speech,
            "content_index": draw(st.integers(min_value=0, max_value=50)),
            "final": draw(st.booleans()),
        },
        "conversation.tool_call": {
            "name": draw(non_blank_text),
            "arguments": draw(st.sampled_from([json.dumps(arguments), arguments, ""])),
            "tool_call_id": draw(st.none() | st.text(max_size=10)),
        },
        "conversation.perception_tool_call": {
            "name": draw(non_blank_text),
            "modality": draw(st.sampled_from(["vision", "audio"])),
            "arguments": draw(st.sampled_from([json.dumps(arguments), arguments])),
            "frames": draw(st.lists(json_values, max_size=2)),
        },
        "conversation.perception_analysis": {"analysis": speech},
        "conversation.replica.started_speaking": None,
        "conversation.replica.stopped_speaking": {
            "duration": draw(seconds),
            "interrupted": draw(st.booleans()),
        },
        "conversation.user.started_speaking": None,
        "conversation.user.stopped_speaking": None,
        "conversation.started_speaking": {"role": role},
        "conversation.stopped_speaking": {"role": role, "duration": draw(seconds)},
        "conversation.replica_interrupted": None,
        "system.replica_joined": {"replica_id": "r79e1c033f"},
        "system.pal_joined": {},
        "system.shutdown": {"shutdown_reason": draw(st.text(max_size=30))},
        "conversation.some_future_event": draw(json_objects),
    }
    event_type = draw(st.sampled_from(sorted(by_type)))
    message: dict[str, Any] = {
        "message_type": "system" if event_type.startswith("system.") else "conversation",
        "event_type": event_type,
        "conversation_id": draw(conversation_ids),
    }
    for key, strategy in (
        ("seq", st.integers(min_value=0, max_value=10**6)),
        ("turn_idx", st.integers(min_value=0, max_value=100)),
        ("inference_id", st.text(min_size=1, max_size=12)),
        ("timestamp", st.floats(min_value=0, max_value=2e9)),
    ):
        if draw(st.booleans()):
            message[key] = draw(strategy)
    props = by_type[event_type]
    if props is not None:
        message["properties"] = props
    return message


def _retype(value: Any, choice: int) -> Any:
    options: list[Any] = [str(value), [value], {"value": value}, None, True, 3]
    return options[choice]
