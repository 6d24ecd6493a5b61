"""The webhook endpoint over real HTTP: it refuses what it must, stores once, and stays up."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import Engine

from cvi_app.protocol import (
    GenericWebhook,
    RecordingReadyWebhook,
    ReplicaJoinedWebhook,
    ShutdownWebhook,
    TranscriptionReadyWebhook,
    Webhook,
)
from cvi_app.protocol.events import JoinedProperties, ShutdownProperties
from cvi_app.protocol.webhooks import (
    RecordingReadyProperties,
    TranscriptEntry,
    TranscriptionReadyProperties,
)
from cvi_app.store import (
    create_db_engine,
    get_conversation,
    list_official_transcript,
    list_webhook_deliveries,
    session_scope,
)
from cvi_app.webhooks import MAX_BODY_BYTES
from tests.store.helpers import add_conversation
from tests.support.servers import serve_asgi
from tests.webhooks.conftest import (
    SECRET,
    RunningSandbox,
    api_verifier,
    webhook_app,
    webhook_path,
)

CID = "c-webhooks"
AT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _post(client: httpx.Client, webhook: Webhook, *, secret: str = SECRET) -> httpx.Response:
    return client.post(webhook_path(secret), json=webhook.to_message())


def _shutdown(reason: str = "participant_left_timeout reached", cid: str = CID) -> ShutdownWebhook:
    return ShutdownWebhook(
        conversation_id=cid,
        timestamp=AT,
        webhook_url=f"http://127.0.0.1/api/webhooks/tavus/{SECRET}",
        properties=ShutdownProperties(shutdown_reason=reason),
    )


def _deliveries(engine: Engine, cid: str = CID) -> list:
    with session_scope(engine) as s:
        return list_webhook_deliveries(s, conversation_id=cid)


def _assert_still_up(client: httpx.Client) -> None:
    joined = ReplicaJoinedWebhook(
        conversation_id=CID, timestamp=AT, properties=JoinedProperties(replica_id="r-up")
    )
    assert _post(client, joined).status_code == 200


def test_a_wrong_secret_answers_not_found_and_stores_nothing(
    webhook_client: httpx.Client, engine: Engine
) -> None:
    add_conversation(engine, CID)
    for secret in ("wrong-secret-0123456789abcdef", SECRET[:-1], SECRET + "x", "ü" * 20):
        response = _post(webhook_client, _shutdown(), secret=secret)
        assert response.status_code == 404
        assert response.text == "Not Found"
    assert _deliveries(engine) == []
    with session_scope(engine) as s:
        conversation = get_conversation(s, conversation_id=CID)
    assert conversation is not None and conversation.status == "active"


def test_a_conversation_the_app_did_not_create_is_refused(
    webhook_client: httpx.Client, engine: Engine
) -> None:
    response = _post(webhook_client, _shutdown(cid="c-somebody-else"))
    assert response.status_code == 404
    assert response.json() == {"error": "unknown conversation"}
    assert _deliveries(engine, "c-somebody-else") == []


def test_a_webhook_that_overtakes_the_conversation_record_waits_for_it(
    engine: Engine, sandbox: RunningSandbox
) -> None:
    # The replica joins while the app is still recording the conversation it just created.
    recorder = threading.Timer(0.3, lambda: add_conversation(engine, CID))
    app = webhook_app(lambda: engine, verify_end=api_verifier(sandbox.api_base), unknown_grace_s=30)
    with (
        serve_asgi(app) as url,
        httpx.Client(base_url=url, timeout=60) as client,
    ):
        recorder.start()
        try:
            response = _post(client, _shutdown())
        finally:
            recorder.join()
    assert response.json() == {"status": "stored"}
    assert len(_deliveries(engine)) == 1


MALFORMED = {
    "not JSON": b"this is not json",
    "empty body": b"",
    "not UTF-8": b'{"event_type": "\xff\xfe"}',
    "an array": json.dumps([{"event_type": "system.shutdown"}]).encode(),
    "missing event_type": json.dumps({"conversation_id": CID, "message_type": "system"}).encode(),
    "event_type not a string": json.dumps(
        {"conversation_id": CID, "event_type": 7, "message_type": "system"}
    ).encode(),
    "conversation_id not a string": json.dumps(
        {"conversation_id": 12, "event_type": "system.shutdown", "message_type": "system"}
    ).encode(),
    "unknown message_type": json.dumps(
        {"conversation_id": CID, "event_type": "system.shutdown", "message_type": "nope"}
    ).encode(),
    "transcript not a list": json.dumps(
        {
            "conversation_id": CID,
            "event_type": "application.transcription_ready",
            "message_type": "application",
            "properties": {"transcript": "hello"},
        }
    ).encode(),
    "event_type too long to store": json.dumps(
        {"conversation_id": CID, "event_type": "x" * 500, "message_type": "system"}
    ).encode(),
    "deeply nested": b'{"event_type": "system.shutdown", "x": '
    + b"[" * 100_000
    + b"]" * 100_000
    + b"}",
    "NaN": b'{"conversation_id": "c", "event_type": "system.shutdown", "message_type": "system",'
    b' "properties": {"x": NaN}}',
}


@pytest.mark.parametrize("body", MALFORMED.values(), ids=MALFORMED.keys())
def test_a_malformed_body_is_refused_with_a_reason_and_the_server_stays_up(
    webhook_client: httpx.Client, engine: Engine, body: bytes
) -> None:
    add_conversation(engine, CID)
    response = webhook_client.post(
        webhook_path(), content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["error"].startswith("invalid webhook")
    assert _deliveries(engine) == []
    _assert_still_up(webhook_client)


def test_an_oversized_body_is_refused_and_the_server_stays_up(
    webhook_client: httpx.Client, engine: Engine
) -> None:
    add_conversation(engine, CID)
    huge = json.dumps(
        {
            "conversation_id": CID,
            "event_type": "application.perception_analysis",
            "message_type": "application",
            "properties": {"analysis": "x" * MAX_BODY_BYTES},
        }
    ).encode()
    declared = webhook_client.post(webhook_path(), content=huge)
    assert declared.status_code == 413

    def chunks():  # no Content-Length: the limit holds while reading
        for start in range(0, len(huge), 64 * 1024):
            yield huge[start : start + 64 * 1024]

    streamed = webhook_client.post(webhook_path(), content=chunks())
    assert streamed.status_code == 413
    assert _deliveries(engine) == []
    _assert_still_up(webhook_client)


def test_a_redelivered_webhook_is_stored_once_and_changes_nothing(
    webhook_client: httpx.Client, engine: Engine
) -> None:
    add_conversation(engine, CID)
    first = _post(webhook_client, _shutdown("max_call_duration reached"))
    assert first.json() == {"status": "stored"}
    # The same payload again, re-serialised differently: still the same delivery.
    again = webhook_client.post(
        webhook_path(),
        content=json.dumps(_shutdown("max_call_duration reached").to_message(), indent=2),
    )
    assert again.status_code == 200
    assert again.json() == {"status": "duplicate"}
    assert len(_deliveries(engine)) == 1


def test_a_shutdown_for_a_conversation_the_api_no_longer_knows_keeps_the_first_reason(
    webhook_client: httpx.Client, engine: Engine
) -> None:
    # The API has no such conversation (so it is live nowhere): the webhook's reason is all
    # there is, and a later webhook does not replace it.
    add_conversation(engine, CID)
    at = datetime.now(UTC)
    first = _shutdown("max_call_duration reached").model_copy(update={"timestamp": at})
    assert _post(webhook_client, first).status_code == 200
    assert _post(webhook_client, _shutdown("daily_room_has_been_deleted")).status_code == 200
    with session_scope(engine) as s:
        conversation = get_conversation(s, conversation_id=CID)
    assert conversation is not None
    assert conversation.status == "ended"
    assert conversation.shutdown_reason == "max_call_duration reached"
    assert conversation.ended_at == at
    assert len(_deliveries(engine)) == 2


def test_transcription_ready_is_stored_as_the_official_transcript(
    webhook_client: httpx.Client, engine: Engine
) -> None:
    add_conversation(engine, CID)
    ready = TranscriptionReadyWebhook(
        conversation_id=CID,
        timestamp=AT,
        properties=TranscriptionReadyProperties(
            transcript=[
                TranscriptEntry(role="system", content="You are a helpful agent."),
                TranscriptEntry(role="assistant", content="Hello there!", seconds_from_start=0.5),
                TranscriptEntry(role="user", content="Hi, what plans?", seconds_from_start=3.0),
            ]
        ),
    )
    assert _post(webhook_client, ready).json() == {"status": "stored"}
    assert _post(webhook_client, ready).json() == {"status": "duplicate"}
    with session_scope(engine) as s:
        lines = list_official_transcript(s, conversation_id=CID)
    assert [(line.role, line.text) for line in lines] == [
        ("system", "You are a helpful agent."),
        ("assistant", "Hello there!"),
        ("user", "Hi, what plans?"),
    ]


def test_recording_ready_keeps_where_the_recording_is_for_the_history_page(
    webhook_client: httpx.Client, engine: Engine
) -> None:
    add_conversation(engine, CID)
    add_conversation(engine, "c-s3")
    shapes = {
        CID: RecordingReadyProperties(
            storage_provider="s3", storage_uri="https://recordings.example.com/c1.mp4\u0007"
        ),
        "c-s3": RecordingReadyProperties(bucket_name="calls", s3_key="c-s3/rec.mp4", duration=61),
    }
    for cid, properties in shapes.items():
        ready = RecordingReadyWebhook(conversation_id=cid, timestamp=AT, properties=properties)
        assert _post(webhook_client, ready).json() == {"status": "stored"}
    with session_scope(engine) as s:
        first = get_conversation(s, conversation_id=CID)
        second = get_conversation(s, conversation_id="c-s3")
    # Control characters never reach the page.
    assert first is not None and first.recording_location == "https://recordings.example.com/c1.mp4"
    assert second is not None and second.recording_location == "s3://calls/c-s3/rec.mp4"


def test_replica_joined_and_unknown_types_are_recorded(
    webhook_client: httpx.Client, engine: Engine
) -> None:
    add_conversation(engine, CID)
    joined = ReplicaJoinedWebhook(
        conversation_id=CID, timestamp=AT, properties=JoinedProperties(replica_id="r-1")
    )
    future = GenericWebhook(
        conversation_id=CID,
        event_type="application.something_new",
        message_type="application",
        properties={"detail": 1},
    )
    assert _post(webhook_client, joined).status_code == 200
    assert _post(webhook_client, future).status_code == 200
    stored = _deliveries(engine)
    assert [d.event_type for d in stored] == [
        "system.replica_joined",
        "application.something_new",
    ]
    assert json.loads(stored[0].payload)["properties"] == {"replica_id": "r-1"}


def test_the_url_secret_is_not_kept_in_stored_payloads(
    webhook_client: httpx.Client, engine: Engine
) -> None:
    add_conversation(engine, CID)
    assert _post(webhook_client, _shutdown()).status_code == 200
    (delivery,) = _deliveries(engine)
    assert SECRET not in delivery.payload
    assert json.loads(delivery.payload)["webhook_url"].endswith("/[redacted]")


def test_a_store_failure_answers_503_so_the_sender_retries(
    tmp_path, sandbox: RunningSandbox
) -> None:
    # A database without the store's tables: every write fails.
    broken = create_db_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    try:
        app = webhook_app(lambda: broken, verify_end=api_verifier(sandbox.api_base))
        with (
            serve_asgi(app) as url,
            httpx.Client(base_url=url, timeout=30) as client,
        ):
            response = _post(client, _shutdown())
            assert response.status_code == 503
            assert client.post(webhook_path(), content=b"[]").status_code == 400
    finally:
        broken.dispose()
