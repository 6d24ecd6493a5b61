"""The web guard in front of the backend, over real HTTP and a real WebSocket (uvicorn)."""

from __future__ import annotations

from collections.abc import Iterator
from http.cookies import SimpleCookie

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import HTMLResponse, JSONResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket
from websockets.sync.client import connect

from cvi_app.access.owner_cookie import COOKIE_NAME, OwnerCookies, owner_identity
from cvi_app.access.web_guard import IDENTITY_COOKIE, SIGN_IN_COOKIE, WebGuard
from cvi_app.accounts.sign_in_cookie import SignInCookies, token_hash
from tests.support.servers import serve_asgi

COOKIES = OwnerCookies(key=b"k" * 32)
UPLOAD_CAP = 64 * 1024


class Backend:
    """A stand-in for Reflex's backend that reports what reached it."""

    def __init__(self) -> None:
        self.uploads: list[int | str] = []

    def app(self) -> Starlette:
        async def page(request: Request) -> HTMLResponse:
            return HTMLResponse("<html><body>page</body></html>")

        async def data(request: Request) -> JSONResponse:
            return JSONResponse({"ok": True})

        async def upload(request: Request) -> JSONResponse:
            try:
                body = await request.body()
            except ClientDisconnect:
                self.uploads.append("cut off")
                return JSONResponse({}, status_code=400)
            self.uploads.append(len(body))
            return JSONResponse({"size": len(body)})

        async def event(websocket: WebSocket) -> None:
            await websocket.accept()
            await websocket.send_text(websocket.headers.get("cookie", ""))
            await websocket.close()

        return Starlette(
            routes=[
                Route("/", page),
                Route("/api/data", data),
                Route("/_upload", upload, methods=["POST"]),
                WebSocketRoute("/_event/", event),
            ]
        )


@pytest.fixture
def backend() -> Backend:
    return Backend()


@pytest.fixture
def url(backend: Backend) -> Iterator[str]:
    guarded = WebGuard(backend.app(), cookies=COOKIES, max_upload_bytes=UPLOAD_CAP)
    with serve_asgi(guarded) as base:
        yield base


def _set_cookie(response_headers: httpx.Headers) -> SimpleCookie:
    parsed: SimpleCookie = SimpleCookie()
    for value in response_headers.get_list("set-cookie"):
        parsed.load(value)
    return parsed


def test_every_response_forbids_framing_by_other_sites(url: str) -> None:
    for path in ("/", "/api/data", "/missing"):
        response = httpx.get(url + path)
        assert "frame-ancestors 'self'" in response.headers["content-security-policy"]
        assert response.headers["x-frame-options"] == "SAMEORIGIN"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "same-origin"


def test_a_new_browser_gets_an_http_only_owner_cookie_with_its_first_page(url: str) -> None:
    response = httpx.get(url + "/")
    cookie = _set_cookie(response.headers)[COOKIE_NAME]
    assert COOKIES.is_valid(cookie.value)
    assert cookie["httponly"] is True and cookie["samesite"] == "Strict"
    # A browser that has a valid one keeps it; API calls never mint one.
    again = httpx.get(url + "/", cookies={COOKIE_NAME: cookie.value})
    assert not again.headers.get_list("set-cookie")
    assert not httpx.get(url + "/api/data").headers.get_list("set-cookie")


def test_a_value_the_server_did_not_sign_is_replaced(url: str) -> None:
    response = httpx.get(url + "/", cookies={COOKIE_NAME: "fixed-by-someone-else"})
    minted = _set_cookie(response.headers)[COOKIE_NAME].value
    assert minted != "fixed-by-someone-else" and COOKIES.is_valid(minted)


def _socket_url(url: str) -> str:
    return url.replace("http://", "ws://") + "/_event/"


def test_the_websocket_handshake_mints_a_cookie_and_reflex_sees_only_the_identity(
    url: str,
) -> None:
    with connect(_socket_url(url), additional_headers={"Cookie": "theme=dark"}) as socket:
        seen = socket.recv(timeout=5)
        set_cookie = socket.response.headers["set-cookie"]
    parsed: SimpleCookie = SimpleCookie()
    parsed.load(set_cookie)
    token = parsed[COOKIE_NAME].value
    assert COOKIES.is_valid(token) and parsed[COOKIE_NAME]["httponly"] is True
    assert seen == f"{IDENTITY_COOKIE}={owner_identity(token)}"


def test_the_websocket_of_a_known_browser_carries_its_identity_and_no_cookie(url: str) -> None:
    token = COOKIES.mint()
    headers = {"Cookie": f"other=secret-value; {COOKIE_NAME}={token}"}
    with connect(_socket_url(url), additional_headers=headers) as socket:
        seen = socket.recv(timeout=5)
        assert "set-cookie" not in socket.response.headers
    assert seen == f"{IDENTITY_COOKIE}={owner_identity(token)}"
    assert token not in seen and "secret-value" not in seen


def test_a_page_cannot_pass_an_identity_of_its_choosing(url: str) -> None:
    victim = owner_identity(COOKIES.mint())
    headers = {"Cookie": f"{IDENTITY_COOKIE}={victim}; {COOKIE_NAME}=forged.value"}
    with connect(_socket_url(url), additional_headers=headers) as socket:
        seen = socket.recv(timeout=5)
    assert victim not in seen
    assert seen.startswith(f"{IDENTITY_COOKIE}=") and seen.count("=") == 1


def test_a_signed_in_browser_passes_its_sign_in_as_a_hash_never_the_token(url: str) -> None:
    owner, sign_in = COOKIES.mint(), SignInCookies.mint()
    headers = {"Cookie": f"{COOKIE_NAME}={owner}; {SignInCookies().name}={sign_in}"}
    with connect(_socket_url(url), additional_headers=headers) as socket:
        seen = socket.recv(timeout=5)
    assert seen == (
        f"{IDENTITY_COOKIE}={owner_identity(owner)}; {SIGN_IN_COOKIE}={token_hash(sign_in)}"
    )
    assert sign_in not in seen


def test_a_page_cannot_pass_a_sign_in_hash_of_its_choosing(url: str) -> None:
    stolen = token_hash(SignInCookies.mint())
    headers = {"Cookie": f"{SIGN_IN_COOKIE}={stolen}; {SignInCookies().name}=short"}
    with connect(_socket_url(url), additional_headers=headers) as socket:
        seen = socket.recv(timeout=5)
    assert stolen not in seen and SIGN_IN_COOKIE not in seen


def test_an_upload_over_the_cap_is_refused_before_the_backend_reads_it(
    url: str, backend: Backend
) -> None:
    response = httpx.post(url + "/_upload", content=b"x" * (UPLOAD_CAP + 1))
    assert response.status_code == 413
    assert "too large" in response.json()["detail"]
    assert backend.uploads == []

    def chunks() -> Iterator[bytes]:  # no Content-Length: the cap applies while streaming
        for _ in range(8):
            yield b"x" * (UPLOAD_CAP // 4)

    httpx.post(url + "/_upload", content=chunks())
    assert backend.uploads == ["cut off"]

    assert httpx.post(url + "/_upload", content=b"x" * 1000).json() == {"size": 1000}
