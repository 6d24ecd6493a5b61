"""Tool calls are stored once per id, and their result is recorded once with its latency."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from cvi_app.store import (
    ToolCallCreate,
    finish_tool_call,
    get_tool_call,
    list_tool_calls,
    record_tool_call,
    session_scope,
)
from tests.store.helpers import add_conversation

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _call(tool_call_id: str = "call_1", **fields: object) -> ToolCallCreate:
    return ToolCallCreate.model_validate(
        {
            "conversation_id": "c-test",
            "tool_call_id": tool_call_id,
            "name": "get_weather",
            "arguments": json.dumps({"city": "Paris"}),
            "started_at": T0,
            **fields,
        }
    )


def test_a_repeated_tool_call_is_stored_once(engine: Engine) -> None:
    add_conversation(engine)
    with session_scope(engine) as session:
        assert record_tool_call(session, call=_call())
        assert not record_tool_call(session, call=_call(name="other", started_at=T0 + timedelta(1)))
        assert record_tool_call(session, call=_call("call_2"))
    with session_scope(engine) as session:
        calls = list_tool_calls(session, conversation_id="c-test")
    assert [(c.tool_call_id, c.name, c.status) for c in calls] == [
        ("call_1", "get_weather", "pending"),
        ("call_2", "get_weather", "pending"),
    ]


def test_the_same_call_id_in_two_conversations_is_two_calls(engine: Engine) -> None:
    add_conversation(engine, "c-test")
    add_conversation(engine, "c-other")
    with session_scope(engine) as session:
        assert record_tool_call(session, call=_call())
        assert record_tool_call(session, call=_call(conversation_id="c-other"))


def test_finishing_records_result_status_and_latency_once(engine: Engine) -> None:
    add_conversation(engine)
    with session_scope(engine) as session:
        record_tool_call(session, call=_call())
    with session_scope(engine) as session:
        done = finish_tool_call(
            session,
            conversation_id="c-test",
            tool_call_id="call_1",
            result='{"temp": 21}',
            status="success",
            finished_at=T0 + timedelta(milliseconds=250),
        )
    assert done is not None
    assert (done.status, done.result, done.latency_ms) == ("success", '{"temp": 21}', 250.0)

    with session_scope(engine) as session:
        again = finish_tool_call(
            session,
            conversation_id="c-test",
            tool_call_id="call_1",
            result="late error",
            status="error",
        )
        stored = get_tool_call(session, conversation_id="c-test", tool_call_id="call_1")
    assert again is not None and again.status == "success"
    assert stored is not None
    assert (stored.status, stored.result, stored.finished_at) == (
        "success",
        '{"temp": 21}',
        T0 + timedelta(milliseconds=250),
    )


def test_finishing_an_unknown_call_returns_none(engine: Engine) -> None:
    with session_scope(engine) as session:
        assert (
            finish_tool_call(
                session, conversation_id="c-test", tool_call_id="nope", result="", status="error"
            )
            is None
        )
