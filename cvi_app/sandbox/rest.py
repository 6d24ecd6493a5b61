"""The sandbox's Tavus-compatible REST API (v2), as Starlette routes.

Mount the routes where the API root should be (the sandbox mounts them at `/v2`, under its own
mount, so conversations are at `/sandbox/v2/conversations`). Requests, shapes, status codes and
error bodies follow Tavus's OpenAPI document (checked by `tests/sandbox/test_openapi.py`): 400
`{"error": ...}` for bad input, 401 `{"message": "Invalid access token"}` for a missing or wrong
key (on every route, before anything else is done), 404 `{"error": ...}` for unknown ids, 204 for
deletes, 304 for a persona patch that changes nothing, 422 `{"message": "Invalid JSON patch
format..."}` for a body that is not a JSON Patch, and 413 `{"error": ...}` for a body over
`MAX_BODY_BYTES` (refused by its Content-Length before it is read, or as soon as a chunked body
passes the cap). Where the document and Tavus differ, `CONFORMANCE.md` says which is followed.
Rooms are served beside the API root: a conversation's URL is
`<sandbox mount>/rooms/<conversation_id>`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Literal, TypeVar

from pydantic import TypeAdapter, ValidationError
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from cvi_app.access.bodies import BodyTooLarge, InvalidContentLength, read_capped_body
from cvi_app.sandbox.faults import default_fault_body
from cvi_app.sandbox.models import persona_document, replica_document
from cvi_app.sandbox.registry import (
    ConversationRegistry,
    InvalidRequestError,
    PatchFormatError,
    SandboxError,
)
from cvi_app.tavus.models import ConversationCreate, PatchOperation, PersonaCreate

__all__ = ["INVALID_TOKEN_MESSAGE", "MAX_BODY_BYTES", "BodyTooLargeError", "rest_routes"]

logger = logging.getLogger(__name__)

INVALID_TOKEN_MESSAGE = "Invalid access token"
MAX_BODY_BYTES = 2 * 1024 * 1024
"""Largest request body read: every bounded field at its limit fits; real requests are a few KB."""
_PATCH: TypeAdapter[list[PatchOperation]] = TypeAdapter(list[PatchOperation])
_KINDS = ("user", "system")
DEFAULT_LIMIT = 10

ModelT = TypeVar("ModelT", ConversationCreate, PersonaCreate)
Handler = Callable[[Request], Awaitable[Response]]


class BodyTooLargeError(SandboxError):
    """413: the request body is larger than `MAX_BODY_BYTES`."""

    status_code = 413

    def __init__(self) -> None:
        super().__init__(
            f"The request body is too large: this API accepts at most "
            f"{MAX_BODY_BYTES // (1024 * 1024)} MB."
        )


def rest_routes(registry: ConversationRegistry) -> list[BaseRoute]:
    """The REST API's routes, relative to the API root (mount them at e.g. `/v2`).

    Args:
        registry: Where conversations, personas and replicas live.

    Returns:
        Routes for conversations, personas (and `pals`), replicas (and `faces`).
    """
    api = _RestApi(registry)
    guard = api.guard
    return [
        Route("/conversations", guard(api.create_conversation), methods=["POST"]),
        Route("/conversations", guard(api.list_conversations), methods=["GET"]),
        Route("/conversations/{id}", guard(api.get_conversation), methods=["GET"]),
        Route("/conversations/{id}", guard(api.delete_conversation), methods=["DELETE"]),
        Route("/conversations/{id}/end", guard(api.end_conversation), methods=["POST"]),
        *_persona_routes(api, "personas", "persona"),
        *_persona_routes(api, "pals", "pal"),
        Route("/replicas", guard(api.replica_lister(face_names=False)), methods=["GET"]),
        Route("/replicas/{id}", guard(api.replica_getter(face_names=False)), methods=["GET"]),
        Route("/faces", guard(api.replica_lister(face_names=True)), methods=["GET"]),
        Route("/faces/{id}", guard(api.replica_getter(face_names=True)), methods=["GET"]),
    ]


def _persona_routes(api: _RestApi, resource: str, names: Literal["persona", "pal"]) -> list[Route]:
    guard = api.guard
    return [
        Route(f"/{resource}", guard(api.persona_lister(names)), methods=["GET"]),
        Route(f"/{resource}", guard(api.persona_creator(names)), methods=["POST"]),
        Route(f"/{resource}/{{id}}", guard(api.persona_getter(names)), methods=["GET"]),
        Route(f"/{resource}/{{id}}", guard(api.persona_patcher(names)), methods=["PATCH"]),
        Route(f"/{resource}/{{id}}", guard(api.persona_deleter()), methods=["DELETE"]),
    ]


class _RestApi:
    """The handlers; `guard` wraps each with fault injection, auth and error mapping."""

    def __init__(self, registry: ConversationRegistry) -> None:
        self.registry = registry

    def guard(self, handler: Handler) -> Handler:
        """Wrap a handler: injected faults first, then the API key check, then errors to JSON."""

        async def guarded(request: Request) -> Response:
            fault = self.registry.faults.take(request.method, _api_path(request))
            if fault is not None:
                if fault.delay > 0:
                    # A slow API is slow to answer, not to receive: take the body first, as a
                    # real server does, so a request whose caller gave up is still carried out.
                    with contextlib.suppress(ClientDisconnect, SandboxError):
                        await _capped_body(request)
                    await asyncio.sleep(fault.delay)
                if fault.status is not None:
                    body = (
                        fault.body if fault.body is not None else default_fault_body(fault.status)
                    )
                    return JSONResponse(body, status_code=fault.status, headers=fault.headers)
            if not self._authorized(request):
                return JSONResponse({"message": INVALID_TOKEN_MESSAGE}, status_code=401)
            try:
                return await handler(request)
            except SandboxError as exc:
                return JSONResponse({exc.body_key: str(exc)}, status_code=exc.status_code)

        return guarded

    def _authorized(self, request: Request) -> bool:
        key = request.headers.get("x-api-key", "").strip()
        return bool(key) and hmac.compare_digest(key.encode(), self.registry.api_key.encode())

    # --- conversations --------------------------------------------------------------------

    async def create_conversation(self, request: Request) -> Response:
        body = _validated(ConversationCreate, await _json_body(request, expect=dict, empty={}))
        conversation = await self.registry.create_conversation(
            body, rooms_base_url=_rooms_base_url(request)
        )
        return JSONResponse(conversation.to_api())

    async def list_conversations(self, request: Request) -> Response:
        limit, page = _paging(request)
        # A status other than `active` or `ended` matches no conversation.
        status = request.query_params.get("status") or None
        items, total = self.registry.list_conversations(limit=limit, page=page, status=status)
        return JSONResponse({"data": [c.to_api() for c in items], "total_count": total})

    async def get_conversation(self, request: Request) -> Response:
        verbose = _flag(request, "verbose")
        conversation = self.registry.get_conversation(request.path_params["id"])
        return JSONResponse(conversation.to_api(verbose=verbose))

    async def end_conversation(self, request: Request) -> Response:
        conversation = await self.registry.end_conversation(
            request.path_params["id"], reason="end_conversation_endpoint_hit"
        )
        return JSONResponse(conversation.to_api())

    async def delete_conversation(self, request: Request) -> Response:
        hard = _flag(request, "hard")
        await self.registry.delete_conversation(request.path_params["id"], hard=hard)
        return Response(status_code=204)

    # --- personas (and PALs) --------------------------------------------------------------

    def persona_lister(self, names: Literal["persona", "pal"]) -> Handler:
        type_param = f"{names}_type"

        async def list_personas(request: Request) -> Response:
            limit, page = _paging(request)
            kind = _kind(request, type_param)
            items, total = self.registry.list_personas(limit=limit, page=page, persona_type=kind)
            data = [persona_document(p, pal_names=names == "pal") for p in items]
            return JSONResponse({"data": data, "total_count": total})

        return list_personas

    def persona_creator(self, names: Literal["persona", "pal"]) -> Handler:
        async def create_persona(request: Request) -> Response:
            body = _validated(PersonaCreate, await _json_body(request, expect=dict, empty={}))
            persona = self.registry.create_persona(body)
            return JSONResponse(persona_document(persona, pal_names=names == "pal"))

        return create_persona

    def persona_getter(self, names: Literal["persona", "pal"]) -> Handler:
        async def get_persona(request: Request) -> Response:
            persona = self.registry.get_persona(request.path_params["id"])
            # Tavus wraps a single persona in a one-item `data` list.
            return JSONResponse({"data": [persona_document(persona, pal_names=names == "pal")]})

        return get_persona

    def persona_patcher(self, names: Literal["persona", "pal"]) -> Handler:
        async def patch_persona(request: Request) -> Response:
            raw = await _json_body(request, expect=list, empty=[])
            try:
                operations = _PATCH.validate_python(raw)
            except ValidationError as exc:
                raise PatchFormatError(_problems(exc)) from exc
            persona, changed = self.registry.patch_persona(
                request.path_params["id"], operations, names=names
            )
            if not changed:
                return Response(status_code=304)
            return JSONResponse(persona_document(persona, pal_names=names == "pal"))

        return patch_persona

    def persona_deleter(self) -> Handler:
        async def delete_persona(request: Request) -> Response:
            self.registry.delete_persona(request.path_params["id"])
            return Response(status_code=204)

        return delete_persona

    # --- replicas (and faces) -------------------------------------------------------------

    def replica_lister(self, *, face_names: bool) -> Handler:
        type_param = "face_type" if face_names else "replica_type"

        async def list_replicas(request: Request) -> Response:
            limit, page = _paging(request)
            _flag(request, "verbose")
            ids = request.query_params.get("replica_ids")
            items, total = self.registry.list_replicas(
                limit=limit,
                page=page,
                replica_type=_kind(request, type_param),
                replica_ids=frozenset(i.strip() for i in ids.split(",")) if ids else None,
                model_name=request.query_params.get("model_name") or None,
            )
            data = [replica_document(r, face_names=face_names) for r in items]
            return JSONResponse({"data": data, "total_count": total})

        return list_replicas

    def replica_getter(self, *, face_names: bool) -> Handler:
        async def get_replica(request: Request) -> Response:
            _flag(request, "verbose")
            replica = self.registry.get_replica(request.path_params["id"])
            return JSONResponse(replica_document(replica, face_names=face_names))

        return get_replica


# --- request parsing --------------------------------------------------------------------------


async def _capped_body(request: Request) -> bytes:
    """The request body, refused with `BodyTooLargeError` once it is known to pass the cap.

    The body is kept on `request.state`, so a second read (after a delay fault) gets it again.
    """
    kept: bytes | None = getattr(request.state, "capped_body", None)
    if kept is not None:
        return kept
    try:
        body = await read_capped_body(request, MAX_BODY_BYTES)
    except BodyTooLarge:
        raise BodyTooLargeError from None
    except InvalidContentLength as exc:
        raise InvalidRequestError(str(exc)) from None
    request.state.capped_body = body
    return body


async def _json_body(
    request: Request, *, expect: type[dict[Any, Any]] | type[list[Any]], empty: Any
) -> Any:
    """The JSON body, of the type expected; `empty` when there is none (the API needs none)."""
    raw = await _capped_body(request)
    if not raw:
        return empty
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidRequestError(f"Request body is not valid JSON: {exc}") from exc
    if not isinstance(data, expect):
        shape = "object" if expect is dict else "array"
        raise InvalidRequestError(f"Request body must be a JSON {shape}")
    return data


def _validated(model: type[ModelT], data: dict[str, Any]) -> ModelT:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InvalidRequestError(f"Invalid request body: {_problems(exc)}") from exc


def _problems(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(part) for part in error['loc']) or 'body'}: {error['msg']}"
        for error in exc.errors()
    )


def _paging(request: Request) -> tuple[int, int]:
    """`limit` and `page`: any integer; below 1 means the default (10 a page, the first page).

    Tavus's clients send `page=0` (and `limit=0`) for "not chosen"; the document allows any
    integer and answers every list with a page.
    """
    limit = _integer(request, "limit")
    page = _integer(request, "page")
    return (
        limit if limit is not None and limit >= 1 else DEFAULT_LIMIT,
        page if page is not None and page >= 1 else 1,
    )


def _integer(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError:
        raise InvalidRequestError(f"{name} must be an integer") from None


def _kind(request: Request, name: str) -> str | None:
    """A `*_type` filter: `user`, `system` or none."""
    raw = request.query_params.get(name)
    if raw is not None and raw not in _KINDS:
        raise InvalidRequestError(f"{name} must be 'user' or 'system'")
    return raw


def _flag(request: Request, name: str) -> bool:
    """A boolean query parameter: `true` or `false` (any case); absent is false."""
    raw = request.query_params.get(name, "false").strip().lower()
    if raw in ("true", "false"):
        return raw == "true"
    raise InvalidRequestError(f"{name} must be true or false")


# --- paths ----------------------------------------------------------------------------------


def _api_path(request: Request) -> str:
    """The request path relative to the API root (`/conversations/c123`)."""
    path: str = request.scope["path"]
    root: str = request.scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


def _rooms_base_url(request: Request) -> str:
    """`<sandbox mount>/rooms/`: the API root's parent, where the room hub serves rooms."""
    root: str = request.scope.get("root_path", "")
    parent = root.rsplit("/", 1)[0] if root else ""
    return str(request.url.replace(path=f"{parent}/rooms/", query="", fragment=""))
