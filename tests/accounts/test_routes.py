"""Signing in and out over real HTTP: the HttpOnly cookie, the redirects, and every refusal."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from starlette.applications import Starlette

from cvi_app.accounts.queries import list_audit
from cvi_app.accounts.routes import SIGN_IN_PATH, SIGN_OUT_PATH, SignInLimiter, sign_in_routes
from cvi_app.accounts.sessions import signed_in
from cvi_app.accounts.sign_in_cookie import SignInCookies, token_hash
from cvi_app.store.db import get_engine, session_scope
from tests.accounts.conftest import PASSWORD, add_account
from tests.support.servers import serve_asgi

PAGES = "http://studio.test:3000"
COOKIES = SignInCookies()


@pytest.fixture
def server(app_database: str) -> Iterator[str]:
    limiter = SignInLimiter(per_account="3/minute", per_address="100/minute")
    routes = sign_in_routes(cookies=COOKIES, origins=lambda: [PAGES], limiter=limiter)
    add_account(get_engine(), "ada@example.com", "operator")
    with serve_asgi(Starlette(routes=routes)) as url:
        yield url


def _post(url: str, path: str, data: dict[str, str], **headers: str) -> httpx.Response:
    return httpx.post(
        url + path,
        data=data,
        headers={"origin": PAGES, **headers},
        follow_redirects=False,
        timeout=30,
    )


def _sign_in(url: str, email: str, password: str, next_path: str = "/console") -> httpx.Response:
    return _post(url, SIGN_IN_PATH, {"email": email, "password": password, "next": next_path})


def _query(response: httpx.Response) -> dict[str, list[str]]:
    return parse_qs(urlsplit(response.headers["location"]).query)


async def test_signing_in_sets_an_httponly_cookie_and_returns_to_the_page(server: str) -> None:
    response = _sign_in(server, "Ada@Example.com", PASSWORD)
    assert response.status_code == 303
    assert response.headers["location"] == f"{PAGES}/console"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("cvi_signin=")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie
    token = cookie.split(";")[0].split("=", 1)[1]
    account = await signed_in(token_hash(token))
    assert account is not None and account.email == "ada@example.com"
    with session_scope(get_engine()) as session:
        assert [e.action for e in list_audit(session)] == ["signed in"]


def test_a_wrong_password_goes_back_to_the_form_and_sets_no_cookie(server: str) -> None:
    response = _sign_in(server, "ada@example.com", "wrong password!")
    assert response.status_code == 303
    assert response.headers["location"].startswith(f"{PAGES}/sign-in?")
    assert _query(response) == {"next": ["/console"], "error": ["invalid"]}
    assert "set-cookie" not in response.headers


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/sign-in"])
def test_signing_in_never_sends_the_browser_to_another_site(server: str, target: str) -> None:
    response = _sign_in(server, "ada@example.com", PASSWORD, next_path=target)
    assert response.headers["location"] == f"{PAGES}/"


def test_a_post_from_another_site_is_refused(server: str) -> None:
    response = httpx.post(
        server + SIGN_IN_PATH,
        data={"email": "ada@example.com", "password": PASSWORD},
        headers={"origin": "https://evil.example"},
        follow_redirects=False,
    )
    assert response.status_code == 403
    assert "set-cookie" not in response.headers


def test_an_oversized_or_malformed_form_is_refused_without_reading_it_all(server: str) -> None:
    response = _post(server, SIGN_IN_PATH, {"email": "a" * 10_000, "password": PASSWORD})
    assert _query(response)["error"] == ["invalid"]
    response = httpx.post(
        server + SIGN_IN_PATH,
        json={"email": "ada@example.com", "password": PASSWORD},
        headers={"origin": PAGES},
        follow_redirects=False,
    )
    assert _query(response)["error"] == ["invalid"]


def test_repeated_attempts_on_one_account_are_stopped_even_with_the_right_password(
    server: str,
) -> None:
    for _ in range(3):
        assert _query(_sign_in(server, "ada@example.com", "wrong password!"))["error"] == [
            "invalid"
        ]
    limited = _sign_in(server, "ada@example.com", PASSWORD)
    assert _query(limited)["error"] == ["limited"]
    assert "set-cookie" not in limited.headers


async def test_signing_out_ends_the_session_and_clears_the_cookie(server: str) -> None:
    cookie = _sign_in(server, "ada@example.com", PASSWORD).headers["set-cookie"]
    token = cookie.split(";")[0].split("=", 1)[1]
    response = _post(server, SIGN_OUT_PATH, {}, cookie=f"{COOKIES.name}={token}")
    assert response.status_code == 303
    assert response.headers["location"] == f"{PAGES}/sign-in?signed_out=1"
    assert "Max-Age=0" in response.headers["set-cookie"]
    assert await signed_in(token_hash(token)) is None
