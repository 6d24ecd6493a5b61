"""Owner cookies: minted and signed by the server, HttpOnly, and only their hash is an identity."""

from __future__ import annotations

import hashlib
from http.cookies import SimpleCookie

from cvi_app.access.owner_cookie import COOKIE_NAME, OwnerCookies, owner_identity

COOKIES = OwnerCookies(key=b"k" * 32)


def test_a_minted_token_is_valid_and_unique() -> None:
    first, second = COOKIES.mint(), COOKIES.mint()
    assert first != second
    assert COOKIES.is_valid(first) and COOKIES.is_valid(second)
    assert len(first) >= 32


def test_values_the_server_did_not_sign_are_not_owner_tokens() -> None:
    token = COOKIES.mint()
    nonce, _, signature = token.partition(".")
    forged = [
        "",
        "made-up",
        "made-up.value",
        f"{nonce}.{signature[:-1]}A" if signature[-1] != "A" else f"{nonce}.{signature[:-1]}B",
        f"other{nonce}.{signature}",
        OwnerCookies(key=b"another deployment key, 32 bytes!").mint(),
        token + "x" * 200,
    ]
    for value in forged:
        assert not COOKIES.is_valid(value), value
        assert COOKIES.identity_from_header(f"{COOKIE_NAME}={value}") is None


def test_the_identity_is_the_tokens_hash_and_never_the_token() -> None:
    token = COOKIES.mint()
    identity = COOKIES.identity_from_header(f"theme=dark; {COOKIE_NAME}={token}; other=1")
    assert identity == hashlib.sha256(token.encode()).hexdigest() == owner_identity(token)
    assert token not in identity
    # The identity itself, sent back as a cookie, proves nothing.
    assert COOKIES.identity_from_header(f"{COOKIE_NAME}={identity}") is None


def test_a_forged_cookie_beside_a_valid_one_does_not_hide_it() -> None:
    token = COOKIES.mint()
    header = f"{COOKIE_NAME}=forged.value; {COOKIE_NAME}={token}"
    assert COOKIES.token_from_header(header) == token


def test_a_second_signed_cookie_planted_beside_ours_makes_neither_trusted() -> None:
    # A cookie set for a narrower path (e.g. /_event) is sent first, beside the browser's own.
    ours, planted = COOKIES.mint(), COOKIES.mint()
    assert COOKIES.token_from_header(f"{COOKIE_NAME}={planted}; {COOKIE_NAME}={ours}") is None
    assert COOKIES.token_from_header(f"{COOKIE_NAME}={ours}; {COOKIE_NAME}={ours}") == ours


def test_an_oversized_cookie_header_is_not_parsed() -> None:
    token = COOKIES.mint()
    assert COOKIES.token_from_header(f"{COOKIE_NAME}={token}; junk={'x' * 9000}") is None


def test_the_cookie_is_http_only_strict_and_lasts_a_month() -> None:
    token = COOKIES.mint()
    parsed: SimpleCookie = SimpleCookie()
    header = COOKIES.set_cookie_header(token)
    parsed.load(header)
    morsel = parsed[COOKIE_NAME]
    assert morsel.value == token
    assert morsel["path"] == "/"
    assert morsel["httponly"] is True
    assert morsel["samesite"] == "Strict"
    assert int(morsel["max-age"]) == 30 * 24 * 3600
    assert "Secure" not in header


def test_over_https_the_cookie_is_secure_and_host_only() -> None:
    secure = OwnerCookies(key=b"k" * 32, secure=True)
    header = secure.set_cookie_header(secure.mint())
    assert header.startswith(f"__Host-{COOKIE_NAME}=")
    assert "Secure" in header and "Domain" not in header
    # The plain name is not read over https: a cookie planted without the prefix is ignored.
    assert secure.token_from_header(f"{COOKIE_NAME}={secure.mint()}") is None
