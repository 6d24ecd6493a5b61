"""Typed shapes of the Tavus REST API (v2): request bodies and responses.

Responses are parsed leniently (unknown fields are kept, odd timestamps become `None`) so a
newer API never breaks the app. Request bodies are checked strictly. Both the legacy names and
the newer ones are accepted on input (`persona_id`/`pal_id`, `replica_id`/`face_id`, ...); models
always serialise with the legacy names, which the API still documents as supported.
"""

from __future__ import annotations

import email.utils
import json
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar, Generic, Literal, TypeVar

from pydantic import (
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo

__all__ = [
    "MAX_EXTRA_FIELDS_BYTES",
    "MAX_GREETING_CHARS",
    "MAX_ID_CHARS",
    "MAX_LANGUAGE_CHARS",
    "MAX_LAYERS_BYTES",
    "MAX_NAME_CHARS",
    "MAX_PROMPT_CHARS",
    "MAX_URL_CHARS",
    "Conversation",
    "ConversationCreate",
    "ConversationEvent",
    "ConversationList",
    "ConversationProperties",
    "ConversationStatus",
    "ConversationalFlowLayerCreate",
    "LLMLayer",
    "LLMLayerCreate",
    "LLMTool",
    "Page",
    "PatchOperation",
    "PerceptionLayer",
    "PerceptionLayerCreate",
    "PerceptionTool",
    "Persona",
    "PersonaCreate",
    "PersonaLayers",
    "PersonaLayersCreate",
    "PersonaList",
    "PipelineMode",
    "RecordingStorage",
    "Replica",
    "ReplicaList",
    "STTLayerCreate",
    "TTSLayerCreate",
    "ToolFunction",
]

# Field limits of request bodies. Tavus documents no maximum for these fields, so each is a sane
# bound with its reason; the sandbox enforces the same ones, so the client refuses them first.
MAX_NAME_CHARS = 255
"""Conversation and persona names: Tavus's documented maximum for the names it does bound."""
MAX_PROMPT_CHARS = 128_000
"""System prompt, context, conversational context: Tavus-hosted LLMs take 32,000 tokens, ~4 chars each."""
MAX_GREETING_CHARS = 2_000
"""Custom greeting: spoken once on joining; a couple of minutes of speech."""
MAX_URL_CHARS = 2_048
"""Callback URLs: the longest URL browsers and proxies reliably carry."""
MAX_ID_CHARS = 64
"""Persona and replica ids: Tavus ids are about a dozen characters."""
MAX_LANGUAGE_CHARS = 64
"""Language: a full language name such as `english` or `multilingual`."""
MAX_LAYERS_BYTES = 256 * 1024
"""`layers` as JSON: room for many tools with their schemas; the documented settings are a few KB."""
MAX_EXTRA_FIELDS_BYTES = 64 * 1024
"""Fields the models do not name (newer settings passed through), as JSON: small settings."""

ConversationStatus = Literal["active", "ended"]
PipelineMode = Literal["full", "echo"]
ItemT = TypeVar("ItemT")

_DATETIME: TypeAdapter[datetime] = TypeAdapter(datetime)


def _lenient_timestamp(value: Any) -> datetime | None:
    """ISO 8601 or RFC 1123 (both seen from Tavus) to an aware datetime; anything else to None."""
    if value is None or isinstance(value, datetime):
        return _aware(value) if value is not None else None
    if isinstance(value, str) and value.strip():
        try:
            return _aware(_DATETIME.validate_python(value.strip()))
        except ValidationError:
            pass
        try:
            return _aware(email.utils.parsedate_to_datetime(value))
        except (TypeError, ValueError):
            return None
    return None


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


Timestamp = Annotated[datetime | None, BeforeValidator(_lenient_timestamp)]


def _alias(*names: str, max_length: int | None = None) -> Any:
    return Field(default=None, validation_alias=AliasChoices(*names), max_length=max_length)


def _input_names(name: str, info: FieldInfo) -> list[str]:
    """Every key under which a field may arrive: its name, alias and validation aliases."""
    names = [name]
    if info.alias:
        names.append(info.alias)
    alias = info.validation_alias
    if isinstance(alias, str):
        names.append(alias)
    elif isinstance(alias, AliasChoices):
        names.extend(choice for choice in alias.choices if isinstance(choice, str))
    return names


def _json_size(value: Any) -> int:
    """Bytes of `value` as compact JSON (what it costs to store and to send on)."""
    return len(json.dumps(value, separators=(",", ":"), default=str).encode())


class _Response(BaseModel):
    """Base of response models: unknown fields are kept, both name generations accepted."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)


class _Request(BaseModel):
    """Base of request bodies: strict types, unknown (newer) fields passed through, bounded.

    The API documents no request field as nullable: a field is either sent with a value of its
    type or left out, so an explicit `null` is refused (leaving a field out gives its default).
    """

    model_config = ConfigDict(extra="allow", populate_by_name=True, strict=True)
    _input_names: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        cls._input_names = frozenset(
            name for key, info in cls.model_fields.items() for name in _input_names(key, info)
        )

    @model_validator(mode="before")
    @classmethod
    def _no_nulls(cls, data: Any) -> Any:
        if isinstance(data, dict):
            nulls = sorted(name for name in cls._input_names if name in data and data[name] is None)
            if nulls:
                raise ValueError(f"{', '.join(nulls)}: must not be null (leave the field out)")
        return data

    @model_validator(mode="after")
    def _bounded_extra_fields(self) -> _Request:
        if self.model_extra and _json_size(self.model_extra) > MAX_EXTRA_FIELDS_BYTES:
            raise ValueError(
                f"unknown fields take more than {MAX_EXTRA_FIELDS_BYTES} bytes as JSON"
            )
        return self


# --- personas -------------------------------------------------------------------------------


class ToolFunction(_Response):
    """The `function` part of an OpenAI-style tool."""

    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    description: str | None = None
    parameters: dict[str, Any] = Field(default_factory=dict)


class LLMTool(_Response):
    """An OpenAI-style function tool the persona's LLM may call (`layers.llm.tools[]`)."""

    type: Literal["function"] = "function"
    function: ToolFunction


class LLMLayer(_Response):
    """`layers.llm`: the model and its tools."""

    model: str | None = None
    tools: list[LLMTool] = Field(default_factory=list)


class PerceptionLayer(_Response):
    """`layers.perception`: the Raven perception model and its tools."""

    perception_model: str | None = None
    ambient_awareness_queries: list[str] = Field(default_factory=list)
    perception_tools: list[LLMTool] = Field(default_factory=list)
    perception_tool_prompt: str | None = None


class PersonaLayers(_Response):
    """`layers`: the pipeline's configurable parts (others such as tts/stt kept as given)."""

    llm: LLMLayer | None = None
    perception: PerceptionLayer | None = None


# What a new persona may set in each layer: the documented settings with their types and
# values (`POST /v2/personas`); other settings pass through as given, bounded with `layers`.

PerceptionModel = Literal["raven-1", "raven-0", "off"]
SttEngine = Literal[
    "tavus-auto",
    "tavus-parakeet",
    "tavus-soniox",
    "tavus-whisper",
    "tavus-deepgram-medical",
    "tavus-advanced",
]
TtsEngine = Literal["cartesia", "elevenlabs"]
Level = Literal["low", "medium", "high"]


class PerceptionTool(_Request):
    """A visual or audio tool of the perception layer (`visual_tools[]`, `audio_tools[]`)."""

    name: str | None = None
    description: str | None = None


class LLMLayerCreate(_Request):
    """`layers.llm` of a new persona: the model (Tavus's or your own) and its tools."""

    model: str | None = None
    base_url: str | None = Field(default=None, max_length=MAX_URL_CHARS)
    api_key: str | None = None
    speculative_inference: bool | None = None
    tools: list[LLMTool] | None = None
    headers: dict[str, Any] | None = None
    extra_body: dict[str, Any] | None = None


class TTSLayerCreate(_Request):
    """`layers.tts` of a new persona: the voice."""

    api_key: str | None = None
    tts_engine: TtsEngine | None = None
    external_voice_id: str | None = None
    voice_settings: dict[str, Any] | None = None
    tts_emotion_control: bool | None = None
    tts_model_name: str | None = None
    pronunciation_dictionary_id: str | None = Field(default=None, max_length=MAX_ID_CHARS)


class STTLayerCreate(_Request):
    """`layers.stt` of a new persona: transcription."""

    stt_engine: SttEngine | None = None
    hotwords: str | None = None


class PerceptionLayerCreate(_Request):
    """`layers.perception` of a new persona: what Raven watches and listens for."""

    perception_model: PerceptionModel | None = None
    visual_awareness_queries: list[str] | None = None
    visual_tool_prompt: str | None = None
    visual_tools: list[PerceptionTool] | None = None
    audio_awareness_queries: list[str] | None = None
    audio_tool_prompt: str | None = None
    audio_tools: list[PerceptionTool] | None = None
    # The raven-0 names, still accepted.
    ambient_awareness_queries: list[str] | None = None
    perception_tool_prompt: str | None = None
    perception_tools: list[LLMTool] | None = None


class ConversationalFlowLayerCreate(_Request):
    """`layers.conversational_flow` of a new persona: turn-taking."""

    turn_detection_model: Literal["sparrow-1", "sparrow-0"] | None = None
    turn_taking_patience: Level | None = None
    replica_interruptibility: Level | None = None
    voice_isolation: Literal["off", "near"] | None = None
    wake_phrase: str | None = None
    idle_engagement: Literal["off", "patient", "eager"] | None = None


class PersonaLayersCreate(_Request):
    """`layers` of a new persona (or of a patched one)."""

    llm: LLMLayerCreate | None = None
    tts: TTSLayerCreate | None = None
    stt: STTLayerCreate | None = None
    perception: PerceptionLayerCreate | None = None
    conversational_flow: ConversationalFlowLayerCreate | None = None


class Persona(_Response):
    """A persona (newer name: PAL): the behaviour of a replica in conversations."""

    persona_id: str = Field(validation_alias=AliasChoices("persona_id", "pal_id"))
    persona_name: str | None = _alias("persona_name", "pal_name")
    system_prompt: str | None = None
    context: str | None = None
    default_replica_id: str | None = _alias("default_replica_id", "default_face_id")
    pipeline_mode: str | None = None
    persona_type: str | None = _alias("persona_type", "pal_type")
    layers: PersonaLayers | None = None
    created_at: Timestamp = None
    updated_at: Timestamp = None

    @property
    def tools(self) -> list[LLMTool]:
        """The function tools of the persona's LLM (empty when it has none)."""
        if self.layers is None or self.layers.llm is None:
            return []
        return self.layers.llm.tools

    @property
    def perception_model(self) -> str | None:
        """The perception model name, or None when perception is not configured."""
        if self.layers is None or self.layers.perception is None:
            return None
        return self.layers.perception.perception_model

    @property
    def perception_enabled(self) -> bool:
        """Whether the persona perceives the user (a perception model other than `off`)."""
        model = self.perception_model
        return bool(model) and model != "off"


class PersonaCreate(_Request):
    """Body of `POST /v2/personas` (or `/v2/pals`); the sandbox checks a patched persona too."""

    persona_name: str | None = _alias("persona_name", "pal_name", max_length=MAX_NAME_CHARS)
    system_prompt: str | None = Field(default=None, max_length=MAX_PROMPT_CHARS)
    context: str | None = Field(default=None, max_length=MAX_PROMPT_CHARS)
    default_replica_id: str | None = _alias(
        "default_replica_id", "default_face_id", max_length=MAX_ID_CHARS
    )
    pipeline_mode: PipelineMode | None = None
    document_ids: list[Annotated[str, Field(max_length=MAX_ID_CHARS)]] | None = None
    document_tags: list[Annotated[str, Field(max_length=MAX_NAME_CHARS)]] | None = None
    objectives_id: str | None = Field(default=None, max_length=MAX_ID_CHARS)
    guardrails_id: str | None = Field(default=None, max_length=MAX_ID_CHARS)
    layers: PersonaLayersCreate | None = None

    @field_validator("layers")
    @classmethod
    def _bounded_layers(cls, value: PersonaLayersCreate | None) -> PersonaLayersCreate | None:
        if value is not None and _json_size(value.model_dump(mode="json")) > MAX_LAYERS_BYTES:
            raise ValueError(f"must take at most {MAX_LAYERS_BYTES} bytes as JSON")
        return value


# --- replicas -------------------------------------------------------------------------------


class Replica(_Response):
    """A replica (newer name: face): the video and voice of the AI participant."""

    replica_id: str = Field(validation_alias=AliasChoices("replica_id", "face_id"))
    replica_name: str | None = _alias("replica_name", "face_name")
    thumbnail_video_url: str | None = None
    training_progress: str | None = None
    status: str | None = None
    replica_type: str | None = _alias("replica_type", "face_type")
    model_name: str | None = None
    error_message: str | None = None
    created_at: Timestamp = None
    updated_at: Timestamp = None


# --- conversations --------------------------------------------------------------------------


class RecordingStorage(_Request):
    """`properties.recording_storage`: where recordings go (identifiers only, no secrets)."""

    provider: Literal["s3", "gcs", "azure_blob"]
    bucket_name: str | None = None
    bucket_region: str | None = None
    assume_role_arn: str | None = None
    external_id: str | None = None
    project_id: str | None = None
    workload_identity_provider: str | None = None
    service_account_email: str | None = None
    storage_account: str | None = None
    container: str | None = None
    tenant_id: str | None = None
    client_id: str | None = None


class ConversationProperties(_Request):
    """`properties` of a new conversation; defaults are the API's documented ones."""

    max_call_duration: int = Field(default=3600, ge=1)
    participant_left_timeout: int = Field(default=0, ge=0)
    participant_absent_timeout: int = Field(default=300, ge=0)
    enable_recording: bool = False
    enable_closed_captions: bool = False
    apply_greenscreen: bool = False
    require_auth: bool = False
    language: str = Field(default="english", min_length=1, max_length=MAX_LANGUAGE_CHARS)
    recording_storage: RecordingStorage | None = None
    # Deprecated by `recording_storage`, still accepted.
    recording_s3_bucket_name: str | None = None
    recording_s3_bucket_region: str | None = None
    aws_assume_role_arn: str | None = None


class ConversationCreate(_Request):
    """Body of `POST /v2/conversations`.

    Send it with `to_body()`, which leaves out every field that was not set so the API applies
    its own defaults.
    """

    replica_id: str | None = _alias("replica_id", "face_id", max_length=MAX_ID_CHARS)
    persona_id: str | None = _alias("persona_id", "pal_id", max_length=MAX_ID_CHARS)
    conversation_name: str | None = Field(default=None, max_length=MAX_NAME_CHARS)
    conversational_context: str | None = Field(default=None, max_length=MAX_PROMPT_CHARS)
    custom_greeting: str | None = Field(default=None, max_length=MAX_GREETING_CHARS)
    callback_url: str | None = Field(default=None, max_length=MAX_URL_CHARS)
    audio_only: bool = False
    test_mode: bool = False
    require_auth: bool = False
    max_participants: int | None = Field(default=None, ge=2)
    memory_stores: list[Annotated[str, Field(max_length=MAX_NAME_CHARS)]] | None = None
    document_ids: list[Annotated[str, Field(max_length=MAX_ID_CHARS)]] | None = None
    document_retrieval_strategy: str | None = Field(default=None, max_length=MAX_NAME_CHARS)
    document_tags: list[Annotated[str, Field(max_length=MAX_NAME_CHARS)]] | None = None
    properties: ConversationProperties = Field(default_factory=ConversationProperties)

    @field_validator("callback_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value

    def to_body(self) -> dict[str, Any]:
        """The JSON body to send: only the fields that were set, legacy names."""
        return self.model_dump(mode="json", exclude_unset=True)


class ConversationEvent(_Response):
    """One entry of a verbose conversation's `events` (webhook-shaped)."""

    event_type: str | None = None
    message_type: str | None = None
    timestamp: Timestamp = None
    properties: dict[str, Any] = Field(default_factory=dict)


class Conversation(_Response):
    """A conversation as the API returns it (create, get, list)."""

    conversation_id: str
    conversation_name: str | None = None
    conversation_url: str | None = None
    status: str | None = None
    callback_url: str | None = None
    replica_id: str | None = _alias("replica_id", "face_id")
    persona_id: str | None = _alias("persona_id", "pal_id")
    meeting_token: str | None = None
    shutdown_reason: str | None = None
    created_at: Timestamp = None
    updated_at: Timestamp = None
    events: list[ConversationEvent] | None = None

    @property
    def join_url(self) -> str | None:
        """The URL a participant opens: `conversation_url`, with `?t=TOKEN` when auth is on."""
        if self.conversation_url is None or not self.meeting_token:
            return self.conversation_url
        sep = "&" if "?" in self.conversation_url else "?"
        return f"{self.conversation_url}{sep}t={self.meeting_token}"


# --- pages ----------------------------------------------------------------------------------


class Page(_Response, Generic[ItemT]):
    """One page of a list endpoint: `{data: [...], total_count}`."""

    data: list[ItemT] = Field(default_factory=list)
    total_count: int = 0


class ConversationList(Page[Conversation]):
    """A page of `GET /v2/conversations`."""


class PersonaList(Page[Persona]):
    """A page of `GET /v2/personas` (or `/v2/pals`)."""


class ReplicaList(Page[Replica]):
    """A page of `GET /v2/replicas` (or `/v2/faces`)."""


# --- JSON Patch -----------------------------------------------------------------------------


class PatchOperation(BaseModel):
    """One RFC 6902 JSON Patch operation (Tavus updates personas with JSON Patch).

    Members an operation does not use are ignored, as RFC 6902 asks (`from` of an `add`, a
    `value` of a `remove`, members of newer drafts).
    """

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    op: Literal["add", "remove", "replace", "copy", "move", "test"]
    path: str
    value: Any = None
    from_: Any = Field(default=None, alias="from")

    @field_validator("path")
    @classmethod
    def _json_pointer(cls, value: str) -> str:
        if not _is_pointer(value):
            raise ValueError("must be a JSON Pointer starting with '/'")
        return value

    @model_validator(mode="after")
    def _operands(self) -> PatchOperation:
        if self.op in ("add", "replace", "test") and "value" not in self.model_fields_set:
            raise ValueError(f"'{self.op}' needs a 'value'")
        if self.op in ("copy", "move"):
            if self.from_ is None:
                raise ValueError(f"'{self.op}' needs a 'from'")
            if not isinstance(self.from_, str) or not _is_pointer(self.from_):
                raise ValueError("'from' must be a JSON Pointer starting with '/'")
        return self

    def to_json(self) -> dict[str, Any]:
        """The operation as JSON, with only the members it uses."""
        body: dict[str, Any] = {"op": self.op, "path": self.path}
        if self.op in ("add", "replace", "test"):
            body["value"] = self.value
        if self.op in ("copy", "move"):
            body["from"] = self.from_
        return body


def _is_pointer(value: str) -> bool:
    return value == "" or value.startswith("/")
