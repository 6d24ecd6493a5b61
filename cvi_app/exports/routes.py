"""`GET /api/conversations/{id}/export.{json,md,vtt,jsonl}`: downloads for the owning browser.

The owner is the identity the browser's signed owner cookie proves (`cvi_app.access`); any other
browser, and any unknown conversation, gets the same 404. Reading and rendering run on a worker
thread (`run_in_transaction`).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from cvi_app.access.owner_cookie import OwnerCookies
from cvi_app.accounts.audit import record_action
from cvi_app.accounts.sessions import caller_from_header
from cvi_app.accounts.sign_in_cookie import SignInCookies
from cvi_app.exports.records import load_raw_records, load_transcript
from cvi_app.exports.render import raw_jsonl, transcript_json, transcript_markdown
from cvi_app.exports.webvtt import transcript_webvtt
from cvi_app.store import Conversation, run_in_transaction
from cvi_app.store.conversations import get_owned_conversation

__all__ = ["EXPORT_FORMATS", "EXPORT_PATH", "export_path", "export_routes"]

logger = logging.getLogger(__name__)

EXPORT_PATH = "/api/conversations/{conversation_id}/export.{fmt}"
_UNSAFE_FILENAME = re.compile(r"[^A-Za-z0-9_.-]")


@dataclass(frozen=True)
class _Format:
    media_type: str
    suffix: str
    render: Callable[[Session, Conversation], str]


EXPORT_FORMATS: dict[str, _Format] = {
    "json": _Format(
        "application/json",
        "transcript.json",
        lambda s, c: transcript_json(load_transcript(s, conversation=c)),
    ),
    "md": _Format(
        "text/markdown; charset=utf-8",
        "transcript.md",
        lambda s, c: transcript_markdown(load_transcript(s, conversation=c)),
    ),
    "vtt": _Format(
        "text/vtt; charset=utf-8",
        "captions.vtt",
        lambda s, c: transcript_webvtt(load_transcript(s, conversation=c)),
    ),
    "jsonl": _Format(
        "application/x-ndjson",
        "events.jsonl",
        lambda s, c: raw_jsonl(load_raw_records(s, conversation_id=c.conversation_id)),
    ),
}
"""The export formats by file extension."""


def export_path(conversation_id: str, fmt: str) -> str:
    """The download path of one export of a conversation."""
    return EXPORT_PATH.format(conversation_id=conversation_id, fmt=fmt)


def export_routes(
    *,
    engine_factory: Callable[[], Engine],
    cookies: OwnerCookies,
    sign_ins: SignInCookies | None = None,
) -> list[Route]:
    """The export downloads as Starlette routes, for the app or a test server.

    Args:
        engine_factory: Returns the store's engine (called per request).
        cookies: Reads the owner identity from the browser's owner cookie.
        sign_ins: Reads the sign-in cookie (with accounts on, the account's role decides).

    Returns:
        One `GET` route serving every format.
    """
    sign_ins = sign_ins or SignInCookies(secure=cookies.secure)

    async def download(request: Request) -> Response:
        cid = str(request.path_params["conversation_id"])
        fmt = EXPORT_FORMATS.get(str(request.path_params["fmt"]))
        if fmt is None:
            return _not_found()
        caller = await caller_from_header(
            request.headers.get("cookie"), owners=cookies, sign_ins=sign_ins
        )
        owner = caller.owner_for("read")
        spec = fmt

        def work(session: Session) -> str | None:
            row = get_owned_conversation(session, conversation_id=cid, owner=owner)
            return None if row is None else spec.render(session, row)

        try:
            body = await run_in_transaction(engine_factory(), work)
        except Exception:
            logger.exception("export of conversation %s failed", cid)
            return JSONResponse({"error": "export failed"}, status_code=500)
        if body is None:
            logger.info("export of %s refused: not this browser's conversation", cid[:128])
            return _not_found()
        await record_action(caller, f"exported {fmt.suffix}", conversation_id=cid)
        filename = f"{_UNSAFE_FILENAME.sub('_', cid)[:100]}-{fmt.suffix}"
        return Response(
            body,
            media_type=fmt.media_type,
            headers={
                "Content-Disposition": f'attachment; filename="{filename}"',
                "Cache-Control": "no-store",
                "X-Content-Type-Options": "nosniff",
            },
        )

    return [Route(EXPORT_PATH, download, methods=["GET"], name="conversation_export")]


def _not_found() -> Response:
    return JSONResponse({"error": "not found"}, status_code=404)
