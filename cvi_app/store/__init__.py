"""The durable conversation store: tables, queries, the batching event writer.

Store functions take the caller's `Session` (keyword-only arguments) and never commit: the
caller owns the transaction (`session_scope`, or `run_in_transaction` from async code). The
schema is managed by Alembic (`python -m cvi_app.store.migrate`); nothing here creates tables.
"""

from cvi_app.store.conversations import (
    ConversationPage,
    create_conversation,
    get_conversation,
    get_owned_conversation,
    is_owner,
    search_conversations,
    update_conversation_status,
)
from cvi_app.store.db import (
    UnsupportedDatabaseError,
    create_db_engine,
    database_url,
    dispose_engines,
    get_engine,
    run_in_transaction,
    session_scope,
)
from cvi_app.store.events import (
    count_events,
    insert_events,
    list_events,
    list_events_by_arrival,
)
from cvi_app.store.from_protocol import (
    new_event_from_interaction,
    new_event_from_protocol,
    transcript_lines_from_webhook,
    webhook_delivery_from_protocol,
)
from cvi_app.store.models import (
    Conversation,
    ConversationCreate,
    ConversationEvent,
    ConversationMode,
    ConversationStatus,
    EventSource,
    NewEvent,
    ToolCall,
    ToolCallCreate,
    ToolCallStatus,
    TranscriptEntry,
    TranscriptLine,
    TranscriptLineCreate,
    WebhookDelivery,
    WebhookDeliveryCreate,
)
from cvi_app.store.tool_calls import (
    finish_tool_call,
    get_tool_call,
    list_tool_calls,
    record_tool_call,
)
from cvi_app.store.transcripts import (
    list_official_transcript,
    list_utterances,
    save_official_transcript,
)
from cvi_app.store.webhooks import list_webhook_deliveries, record_webhook_delivery
from cvi_app.store.writer import EventWriter, WriterClosedError, WriterFailedError, WriterStats

__all__ = [
    "Conversation",
    "ConversationCreate",
    "ConversationEvent",
    "ConversationMode",
    "ConversationPage",
    "ConversationStatus",
    "EventSource",
    "EventWriter",
    "NewEvent",
    "ToolCall",
    "ToolCallCreate",
    "ToolCallStatus",
    "TranscriptEntry",
    "TranscriptLine",
    "TranscriptLineCreate",
    "UnsupportedDatabaseError",
    "WebhookDelivery",
    "WebhookDeliveryCreate",
    "WriterClosedError",
    "WriterFailedError",
    "WriterStats",
    "count_events",
    "create_conversation",
    "create_db_engine",
    "database_url",
    "dispose_engines",
    "finish_tool_call",
    "get_conversation",
    "get_owned_conversation",
    "is_owner",
    "get_engine",
    "get_tool_call",
    "insert_events",
    "list_events",
    "list_events_by_arrival",
    "list_official_transcript",
    "list_tool_calls",
    "list_utterances",
    "list_webhook_deliveries",
    "new_event_from_interaction",
    "new_event_from_protocol",
    "record_tool_call",
    "record_webhook_delivery",
    "run_in_transaction",
    "save_official_transcript",
    "search_conversations",
    "session_scope",
    "transcript_lines_from_webhook",
    "update_conversation_status",
    "webhook_delivery_from_protocol",
]
