"""`WebGuard`: the ASGI middleware in front of the whole backend (pages, websocket, uploads, API).

- Every HTTP response carries the security headers (a content policy that only lets the app's
  own pages frame it, no sniffing, no referrer to other sites).
- A browser without a valid owner cookie gets one from the server: on its first page, or in the
  websocket handshake (`Set-Cookie` on the accept). The Reflex websocket then sees only the
  owner *identity* the cookie proves, in place of the browser's `Cookie` header, so neither the
  cookie nor anything a page script set reaches Reflex state, its logs, or its error traces.
  A browser signed in to an account (`cvi_app.accounts`) has its sign-in token passed the same
  way, as the token's hash.
- Upload bodies over `max_upload_bytes` are refused before Reflex reads them.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from typing import Any

from cvi_app.access.owner_cookie import OwnerCookies, owner_identity
from cvi_app.accounts.sign_in_cookie import SignInCookies, token_hash

__all__ = [
    "IDENTITY_COOKIE",
    "MAX_UPLOAD_BYTES",
    "SIGN_IN_COOKIE",
    "WebGuard",
    "content_security_policy",
]

logger = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# What the Reflex websocket's `Cookie` header holds instead of the browser's cookies.
IDENTITY_COOKIE = "cvi_identity"
SIGN_IN_COOKIE = "cvi_signed_in"
EVENT_PATH = "/_event"
UPLOAD_PATH = "/_upload"
# The WAV echo is the only upload: 60 s of 48 kHz stereo 32-bit audio is about 23 MB.
MAX_UPLOAD_BYTES = 25 * 1024 * 1024


def content_security_policy(
    connect_origins: Sequence[str] = (), frame_ancestors: Sequence[str] = ()
) -> str:
    """The content policy of every page: the app's own code, plus Daily's call frames.

    Args:
        connect_origins: Other http(s) origins pages may call over HTTP and WebSocket (the
            sandbox service's, whose rooms a sandbox call joins).
        frame_ancestors: Other origins that may frame the page (a public page's embedders).
    """
    connect = ["'self'"]
    for origin in connect_origins:
        connect += [origin, "ws" + origin.removeprefix("http")]
    return "; ".join(
        [
            "default-src 'self'",
            # Reflex's production build bootstraps with inline scripts, and runs the scripts of
            # server events (toasts, redirects: `rx.call_function`) through eval.
            "script-src 'self' 'unsafe-inline' 'unsafe-eval'",
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data: blob:",
            "media-src 'self' data: blob:",
            "font-src 'self' data:",
            "connect-src " + " ".join(connect),
            # Tavus conversations are Daily rooms (`https://tavus.daily.co/...`).
            "frame-src 'self' https://*.daily.co",
            " ".join(["frame-ancestors 'self'", *frame_ancestors]),
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
        ]
    )


def _security_headers(
    *, secure: bool, connect_origins: Sequence[str] = (), frame_ancestors: Sequence[str] = ()
) -> list[tuple[bytes, bytes]]:
    policy = content_security_policy(connect_origins, frame_ancestors)
    headers = [(b"content-security-policy", policy.encode())]
    if not frame_ancestors:  # it cannot name other origins: the policy alone says who may
        headers.append((b"x-frame-options", b"SAMEORIGIN"))
    headers += [
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"same-origin"),
        (b"cross-origin-opener-policy", b"same-origin"),
    ]
    if secure:
        headers.append((b"strict-transport-security", b"max-age=31536000"))
    return headers


class WebGuard:
    """Wraps the backend ASGI app (Reflex's `api_transformer`).

    Args:
        app: The backend.
        cookies: Mints and checks owner cookies.
        sign_in: Reads sign-in cookies (default: those of the same site as `cookies`).
        max_upload_bytes: The largest upload body accepted.
        connect_origins: Other origins the pages may connect to (see `content_security_policy`).
        framing: The origins that may frame a page at a path (public pages' embedders), or
            None for a path only the app's own pages may frame.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        cookies: OwnerCookies,
        max_upload_bytes: int = MAX_UPLOAD_BYTES,
        connect_origins: Sequence[str] = (),
        sign_in: SignInCookies | None = None,
        framing: Callable[[str], Awaitable[Sequence[str]]] | None = None,
    ) -> None:
        self.app = app
        self.secure = cookies.secure
        self.connect_origins = tuple(connect_origins)
        self.framing = framing
        self.cookies = cookies
        self.sign_in = sign_in or SignInCookies(secure=cookies.secure)
        self.max_upload_bytes = max_upload_bytes
        self._headers = _security_headers(secure=cookies.secure, connect_origins=connect_origins)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Guard one request or websocket."""
        if scope["type"] == "websocket" and scope.get("path", "").startswith(EVENT_PATH):
            await self._event_socket(scope, receive, send)
        elif scope["type"] == "http":
            await self._http(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def _event_socket(self, scope: Scope, receive: Receive, send: Send) -> None:
        header = _header(scope, b"cookie")
        token = self.cookies.token_from_header(header)
        minted = token is None
        if token is None:
            token = self.cookies.mint()
        proven = f"{IDENTITY_COOKIE}={owner_identity(token)}"
        signed_in = self.sign_in.token_from_header(header)
        if signed_in is not None:
            proven += f"; {SIGN_IN_COOKIE}={token_hash(signed_in)}"
        scope = dict(scope)
        scope["headers"] = [
            *((k, v) for k, v in scope.get("headers", []) if k.lower() != b"cookie"),
            (b"cookie", proven.encode()),
        ]
        set_cookie = self.cookies.set_cookie_header(token).encode()

        async def send_accept_with_cookie(message: Message) -> None:
            if minted and message["type"] == "websocket.accept":
                message = {
                    **message,
                    "headers": [*message.get("headers", []), (b"set-cookie", set_cookie)],
                }
            await send(message)

        await self.app(scope, receive, send_accept_with_cookie)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("path", "").startswith(UPLOAD_PATH):
            declared = _header(scope, b"content-length")
            if declared is not None and (
                not declared.isdigit() or int(declared) > self.max_upload_bytes
            ):
                await _refuse_upload(send, self.max_upload_bytes)
                return
            receive = _capped(receive, self.max_upload_bytes)
        has_owner = self.cookies.token_from_header(_header(scope, b"cookie")) is not None
        security = self._headers
        if self.framing is not None:
            ancestors = await self.framing(scope.get("path", ""))
            if ancestors:
                security = _security_headers(
                    secure=self.secure,
                    connect_origins=self.connect_origins,
                    frame_ancestors=ancestors,
                )
        replaced = {name for name, _ in self._headers} | {b"x-frame-options"}

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    *((k, v) for k, v in message.get("headers", []) if k.lower() not in replaced),
                    *security,
                ]
                if not has_owner and _is_html(message):
                    cookie = self.cookies.set_cookie_header(self.cookies.mint())
                    headers.append((b"set-cookie", cookie.encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


def _is_html(message: Message) -> bool:
    for key, value in message.get("headers", []):
        if key.lower() == b"content-type":
            return bytes(value).lower().startswith(b"text/html")
    return False


def _capped(receive: Receive, limit: int) -> Receive:
    """`receive` that ends the request (as a disconnect) once its body passes `limit` bytes."""
    seen = 0

    async def capped_receive() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                logger.warning("upload refused: body over %d bytes", limit)
                return {"type": "http.disconnect"}
        return message

    return capped_receive


async def _refuse_upload(send: Send, limit: int) -> None:
    body = json.dumps(
        {"detail": f"The file is too large: uploads are limited to {limit // (1024 * 1024)} MB."}
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *_security_headers(secure=False),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
