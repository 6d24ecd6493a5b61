"""Passwords are kept as argon2 hashes and checked against them; bad new passwords are named."""

from cvi_app.accounts.passwords import (
    MAX_PASSWORD,
    check_new_password,
    hash_password,
    verify_password,
)


def test_a_password_verifies_against_its_hash_and_no_other() -> None:
    stored = hash_password("correct horse battery")
    assert stored.startswith("$argon2")
    assert "correct horse" not in stored
    assert verify_password("correct horse battery", stored)
    assert not verify_password("correct horse battery!", stored)


def test_an_unknown_account_or_a_broken_hash_never_matches() -> None:
    assert not verify_password("anything at all", None)
    assert not verify_password("anything at all", "not-a-hash")


def test_an_oversized_password_is_refused_before_hashing() -> None:
    huge = "x" * (MAX_PASSWORD + 1)
    assert not verify_password(huge, hash_password("correct horse battery"))
    assert (
        check_new_password(huge) == f"The password must be at most {MAX_PASSWORD} characters long."
    )


def test_new_passwords_must_be_long_enough_and_not_blank() -> None:
    assert check_new_password("short") == "The password must be at least 10 characters long."
    assert check_new_password(" " * 12) == "The password cannot be only spaces."
    assert check_new_password("a sound passphrase") is None
