"""Async client for the Tavus REST API (v2), also the sandbox's local copy of it."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Any, Self, TypeVar
from urllib.parse import quote, urlsplit

import httpx
from pydantic import BaseModel, ValidationError
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt
from tenacity.wait import wait_exponential_jitter

from cvi_app.tavus.errors import (
    TavusAPIError,
    TavusError,
    TavusTimeoutError,
    TavusTransportError,
    error_from_response,
)
from cvi_app.tavus.models import (
    Conversation,
    ConversationCreate,
    ConversationList,
    ConversationProperties,
    PatchOperation,
    Persona,
    PersonaCreate,
    PersonaLayers,
    PersonaList,
    PipelineMode,
    Replica,
    ReplicaList,
)
from cvi_app.tavus.retry import IDEMPOTENT_METHODS, is_retryable, parse_retry_after

__all__ = ["DEFAULT_BASE_URL", "TavusClient"]

DEFAULT_BASE_URL = "https://tavusapi.com/v2"
logger = logging.getLogger(__name__)
ModelT = TypeVar("ModelT", bound=BaseModel)
JSON = Any
_REDACTED = "***"


class TavusClient:
    """Talks to the Tavus REST API: conversations, personas (PALs) and replicas (faces).

    Use it as an async context manager, or call `aclose()` (safe to call twice). Failed
    requests are retried with exponential backoff on 429, 5xx and connection failures, waiting
    as long as `Retry-After` asks; every failure ends as a `TavusError` subclass.

    Args:
        api_key: The Tavus API key, sent as `x-api-key`. Never logged, shown or put in errors.
        base_url: The API root, e.g. `https://tavusapi.com/v2` or the sandbox's `.../sandbox/v2`.
        timeout: Seconds to wait for each attempt (connect, send and answer).
        max_retries: Attempts after the first one for retryable failures.
        http_client: An `httpx.AsyncClient` to use; the caller keeps ownership (not closed here).
        retry_backoff: First backoff in seconds; it doubles on each retry (with jitter).
        max_backoff: Longest backoff between attempts when the API does not say.
        max_retry_after: Longest `Retry-After` to honour; a longer one fails at once.
    """

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str = DEFAULT_BASE_URL,
        timeout: float = 10.0,
        max_retries: int = 3,
        http_client: httpx.AsyncClient | None = None,
        retry_backoff: float = 0.5,
        max_backoff: float = 8.0,
        max_retry_after: float = 60.0,
    ) -> None:
        if not api_key or not api_key.strip():
            raise ValueError("api_key must not be empty")
        if not base_url.startswith(("http://", "https://")):
            raise ValueError("base_url must be an http:// or https:// URL")
        if max_retries < 0:
            raise ValueError("max_retries must be 0 or more")
        self._api_key = api_key
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.max_retries = max_retries
        self._backoff = wait_exponential_jitter(
            multiplier=retry_backoff, max=max_backoff, jitter=retry_backoff
        )
        self._max_retry_after = max_retry_after
        self._owns_http = http_client is None
        self._http = http_client if http_client is not None else httpx.AsyncClient()
        self._closed = False

    def __repr__(self) -> str:
        return f"TavusClient(base_url={self.base_url!r})"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Release the connection pool (only if this client created it). Idempotent."""
        if self._closed:
            return
        self._closed = True
        if self._owns_http:
            await self._http.aclose()

    # --- conversations --------------------------------------------------------------------

    async def create_conversation(
        self,
        request: ConversationCreate | None = None,
        *,
        replica_id: str | None = None,
        persona_id: str | None = None,
        conversation_name: str | None = None,
        conversational_context: str | None = None,
        custom_greeting: str | None = None,
        callback_url: str | None = None,
        audio_only: bool | None = None,
        test_mode: bool | None = None,
        require_auth: bool | None = None,
        max_participants: int | None = None,
        properties: ConversationProperties | Mapping[str, Any] | None = None,
    ) -> Conversation:
        """Start a conversation (`POST /conversations`).

        Pass a ready `ConversationCreate`, or the fields as keywords (None means "not sent",
        so the API's defaults apply). Fields given both ways take the keyword's value.

        Returns:
            The new conversation, with `conversation_url` (and `meeting_token` with auth).

        Raises:
            TavusConcurrencyLimitError: The account runs its maximum of conversations.
            TavusValidationError: The body was refused; the message names the problem.
        """
        fields: dict[str, Any] = request.to_body() if request is not None else {}
        given = {
            "replica_id": replica_id,
            "persona_id": persona_id,
            "conversation_name": conversation_name,
            "conversational_context": conversational_context,
            "custom_greeting": custom_greeting,
            "callback_url": callback_url,
            "audio_only": audio_only,
            "test_mode": test_mode,
            "require_auth": require_auth,
            "max_participants": max_participants,
            "properties": (
                properties.model_dump(mode="json", exclude_unset=True)
                if isinstance(properties, ConversationProperties)
                else properties
            ),
        }
        fields.update({key: value for key, value in given.items() if value is not None})
        body = ConversationCreate.model_validate(fields).to_body()
        data = await self._request("POST", "/conversations", json_body=body, idempotent=False)
        return self._parse(Conversation, data)

    async def get_conversation(
        self, conversation_id: str, *, verbose: bool = False
    ) -> Conversation:
        """One conversation (`GET /conversations/{id}`); `verbose` adds its `events`."""
        params = {"verbose": "true"} if verbose else None
        data = await self._request("GET", _path("conversations", conversation_id), params=params)
        return self._parse(Conversation, data)

    async def list_conversations(
        self, *, limit: int = 10, page: int = 1, status: str | None = None
    ) -> ConversationList:
        """A page of conversations, newest first, optionally only `active` or `ended` ones."""
        params: dict[str, Any] = {"limit": limit, "page": page}
        if status is not None:
            params["status"] = status
        data = await self._request("GET", "/conversations", params=params)
        return self._parse(ConversationList, data)

    async def end_conversation(self, conversation_id: str) -> None:
        """End a conversation (`POST /conversations/{id}/end`); ending twice is harmless."""
        await self._request("POST", _path("conversations", conversation_id, "end"), idempotent=True)

    async def delete_conversation(self, conversation_id: str, *, hard: bool = False) -> None:
        """Delete a conversation; `hard` also removes its assets, irrevocably."""
        params = {"hard": "true"} if hard else None
        await self._request("DELETE", _path("conversations", conversation_id), params=params)

    # --- personas -------------------------------------------------------------------------

    async def list_personas(
        self, *, limit: int = 10, page: int = 1, persona_type: str | None = None
    ) -> PersonaList:
        """A page of personas; `persona_type` is `user` or `system` (stock)."""
        return await self._list_personas("personas", "persona_type", limit, page, persona_type)

    async def get_persona(self, persona_id: str) -> Persona:
        """One persona by id."""
        return await self._get_persona("personas", persona_id)

    async def create_persona(
        self,
        request: PersonaCreate | None = None,
        *,
        persona_name: str | None = None,
        system_prompt: str | None = None,
        context: str | None = None,
        default_replica_id: str | None = None,
        pipeline_mode: PipelineMode | None = None,
        layers: PersonaLayers | Mapping[str, Any] | None = None,
    ) -> Persona:
        """Create a persona; fields as a `PersonaCreate` or as keywords (None = not sent)."""
        fields: dict[str, Any] = (
            request.model_dump(mode="json", exclude_unset=True) if request is not None else {}
        )
        given = {
            "persona_name": persona_name,
            "system_prompt": system_prompt,
            "context": context,
            "default_replica_id": default_replica_id,
            "pipeline_mode": pipeline_mode,
            "layers": (
                layers.model_dump(mode="json", exclude_none=True)
                if isinstance(layers, PersonaLayers)
                else layers
            ),
        }
        fields.update({key: value for key, value in given.items() if value is not None})
        body = PersonaCreate.model_validate(fields).model_dump(
            mode="json", exclude_unset=True, exclude_none=True
        )
        data = await self._request("POST", "/personas", json_body=body, idempotent=False)
        return self._parse(Persona, data)

    async def update_persona(
        self, persona_id: str, patch: Sequence[PatchOperation | Mapping[str, Any]]
    ) -> Persona:
        """Change a persona with JSON Patch operations (RFC 6902).

        Example: `[{"op": "replace", "path": "/persona_name", "value": "Coach"}]`.

        Returns:
            The persona after the change (fetched again if the API answers without it).
        """
        ops = [
            op if isinstance(op, PatchOperation) else PatchOperation.model_validate(op)
            for op in patch
        ]
        if not ops:
            raise ValueError("patch must hold at least one operation")
        path = _path("personas", persona_id)
        data = await self._request(
            "PATCH", path, json_body=[op.to_json() for op in ops], idempotent=False
        )
        persona = _single(data)
        if isinstance(persona, dict) and ("persona_id" in persona or "pal_id" in persona):
            return self._parse(Persona, persona)
        return await self.get_persona(persona_id)

    async def delete_persona(self, persona_id: str) -> None:
        """Delete a persona."""
        await self._request("DELETE", _path("personas", persona_id))

    # --- replicas -------------------------------------------------------------------------

    async def list_replicas(
        self,
        *,
        limit: int = 10,
        page: int = 1,
        replica_type: str | None = None,
        verbose: bool = False,
    ) -> ReplicaList:
        """A page of replicas; `replica_type` is `user` or `system` (stock)."""
        return await self._list_replicas(
            "replicas", "replica_type", limit, page, replica_type, verbose
        )

    async def get_replica(self, replica_id: str, *, verbose: bool = False) -> Replica:
        """One replica by id."""
        return await self._get_replica("replicas", replica_id, verbose)

    # --- newer names: PALs are personas, faces are replicas -------------------------------

    async def list_pals(
        self, *, limit: int = 10, page: int = 1, pal_type: str | None = None
    ) -> PersonaList:
        """A page of PALs (`GET /pals`), parsed as personas."""
        return await self._list_personas("pals", "pal_type", limit, page, pal_type)

    async def get_pal(self, pal_id: str) -> Persona:
        """One PAL by id (`GET /pals/{id}`), parsed as a persona."""
        return await self._get_persona("pals", pal_id)

    async def list_faces(
        self,
        *,
        limit: int = 10,
        page: int = 1,
        face_type: str | None = None,
        verbose: bool = False,
    ) -> ReplicaList:
        """A page of faces (`GET /faces`), parsed as replicas."""
        return await self._list_replicas("faces", "face_type", limit, page, face_type, verbose)

    async def get_face(self, face_id: str, *, verbose: bool = False) -> Replica:
        """One face by id (`GET /faces/{id}`), parsed as a replica."""
        return await self._get_replica("faces", face_id, verbose)

    # --- shared helpers -------------------------------------------------------------------

    async def _list_personas(
        self, resource: str, type_param: str, limit: int, page: int, kind: str | None
    ) -> PersonaList:
        params: dict[str, Any] = {"limit": limit, "page": page}
        if kind is not None:
            params[type_param] = kind
        data = await self._request("GET", f"/{resource}", params=params)
        return self._parse(PersonaList, data)

    async def _get_persona(self, resource: str, persona_id: str) -> Persona:
        data = await self._request("GET", _path(resource, persona_id))
        return self._parse(Persona, _single(data))

    async def _list_replicas(
        self,
        resource: str,
        type_param: str,
        limit: int,
        page: int,
        kind: str | None,
        verbose: bool,
    ) -> ReplicaList:
        params: dict[str, Any] = {"limit": limit, "page": page}
        if kind is not None:
            params[type_param] = kind
        if verbose:
            params["verbose"] = "true"
        data = await self._request("GET", f"/{resource}", params=params)
        return self._parse(ReplicaList, data)

    async def _get_replica(self, resource: str, replica_id: str, verbose: bool) -> Replica:
        params = {"verbose": "true"} if verbose else None
        data = await self._request("GET", _path(resource, replica_id), params=params)
        return self._parse(Replica, _single(data))

    def _parse(self, model: type[ModelT], data: JSON) -> ModelT:
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            raise TavusError(
                f"Unexpected {model.__name__} in the API's answer: {exc.error_count()} problem(s), "
                f"first: {_first_problem(exc)}"
            ) from exc

    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: JSON = None,
        idempotent: bool | None = None,
    ) -> JSON:
        """Send one request with retries; return the decoded JSON body (None when empty)."""
        if self._closed:
            raise TavusError("TavusClient is closed")
        safe = method in IDEMPOTENT_METHODS if idempotent is None else idempotent
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.max_retries + 1),
            wait=self._wait,
            retry=retry_if_exception(
                lambda exc: is_retryable(
                    exc, idempotent=safe, max_retry_after=self._max_retry_after
                )
            ),
            before_sleep=self._log_retry,
            reraise=True,
        )
        return await retrying(self._send, method, path, params, json_body)

    async def _send(
        self, method: str, path: str, params: Mapping[str, Any] | None, json_body: JSON
    ) -> JSON:
        """One attempt; the only place where httpx errors become `TavusError`s."""
        url = f"{self.base_url}{path}"
        try:
            response = await self._http.request(
                method,
                url,
                params=params,
                json=json_body,
                headers={"x-api-key": self._api_key, "accept": "application/json"},
                timeout=self.timeout,
            )
        except httpx.TimeoutException as exc:
            raise TavusTimeoutError(
                f"No answer from {method} {path} within {self.timeout:g}s ({type(exc).__name__})"
            ) from exc
        except httpx.TransportError as exc:
            raise TavusTransportError(
                f"{method} {path} failed: {type(exc).__name__}: {self._redact(str(exc))}"
            ) from exc
        if response.status_code == 304:  # a patch that changed nothing: no body
            return None
        body = _decode(response)
        if response.is_success:
            return body
        error = error_from_response(
            response.status_code,
            body,
            method=method,
            path=urlsplit(url).path,
            retry_after=parse_retry_after(response.headers.get("retry-after")),
            reason=response.reason_phrase,
        )
        error.message = self._redact(error.message)
        error.args = (self._redact(str(error)),)
        raise error

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome is not None else None
        if isinstance(exc, TavusAPIError) and exc.retry_after is not None:
            return exc.retry_after
        return float(self._backoff(state))

    def _log_retry(self, state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome is not None else None
        wait = state.next_action.sleep if state.next_action is not None else 0.0
        logger.warning(
            "Tavus API attempt %d/%d failed (%s); retrying in %.2fs",
            state.attempt_number,
            self.max_retries + 1,
            exc,
            wait,
        )

    def _redact(self, text: str) -> str:
        return text.replace(self._api_key, _REDACTED)


def _path(*segments: str) -> str:
    for segment in segments:
        if not segment or not segment.strip():
            raise ValueError("ids must not be empty")
    return "/" + "/".join(quote(segment, safe="") for segment in segments)


def _decode(response: httpx.Response) -> JSON:
    if not response.content:
        return None
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return response.text


def _single(data: JSON) -> JSON:
    """Tavus answers some single-item GETs as `{"data": [item]}`; unwrap that."""
    if isinstance(data, dict) and set(data) <= {"data", "total_count"}:
        items = data.get("data")
        if isinstance(items, list) and len(items) == 1:
            return items[0]
        if isinstance(items, dict):
            return items
    return data


def _first_problem(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"]) or "body"
    return f"{where}: {error['msg']}"
