"""Password hashing (argon2, through pwdlib) and the rules a new password must meet."""

from __future__ import annotations

from functools import lru_cache

from pwdlib import PasswordHash

__all__ = ["MAX_PASSWORD", "MIN_PASSWORD", "check_new_password", "hash_password", "verify_password"]

MIN_PASSWORD = 10
MAX_PASSWORD = 256
"""Longer inputs are refused before hashing (argon2 is slow on purpose; so is a huge input)."""


@lru_cache(maxsize=1)
def _hasher() -> PasswordHash:
    return PasswordHash.recommended()


def check_new_password(password: str) -> str | None:
    """Why `password` cannot be used, as a sentence; None when it can."""
    if len(password) < MIN_PASSWORD:
        return f"The password must be at least {MIN_PASSWORD} characters long."
    if len(password) > MAX_PASSWORD:
        return f"The password must be at most {MAX_PASSWORD} characters long."
    if not password.strip():
        return "The password cannot be only spaces."
    return None


def hash_password(password: str) -> str:
    """The argon2 hash to store for `password`."""
    return _hasher().hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    """Whether `password` matches `password_hash`.

    With no hash (an unknown email) a hash is still computed, so the answer takes as long
    for an unknown account as for a wrong password.
    """
    if len(password) > MAX_PASSWORD:
        return False
    if password_hash is None:
        _hasher().hash(password)
        return False
    try:
        return _hasher().verify(password, password_hash)
    except Exception:  # a malformed stored hash: not a match
        return False
