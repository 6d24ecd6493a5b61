"""The accounts' tables: operators, their sign-in sessions, and the audit log.

Passwords are kept only as argon2 hashes (`passwords.py`); sign-in sessions only as the SHA-256
of the token in the browser's cookie, so a copy of the database signs nobody in.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from sqlalchemy import CheckConstraint, Index, Integer, String, Text
from sqlmodel import Field, SQLModel

from cvi_app.store.types import BigIntPK, UTCDateTime, utc_now

__all__ = ["ROLES", "Account", "AuditEntry", "Role", "SignInSession"]

Role = Literal["admin", "operator", "viewer"]
ROLES: tuple[Role, ...] = ("admin", "operator", "viewer")

EMAIL_LENGTH = 254
HASH_LENGTH = 255


class Account(SQLModel, table=True):
    """One person who signs in to the studio."""

    __tablename__ = "account"
    __table_args__ = (
        CheckConstraint("role IN ('admin', 'operator', 'viewer')", name="ck_account_role"),
        Index("ix_account_email", "email", unique=True),
    )

    id: int | None = Field(default=None, primary_key=True, sa_type=Integer)
    email: str = Field(sa_type=String(EMAIL_LENGTH))
    """Lower-cased; the sign-in name."""
    password_hash: str = Field(sa_type=String(HASH_LENGTH))
    role: str = Field(sa_type=String(16))
    active: bool = True
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    password_changed_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)


class SignInSession(SQLModel, table=True):
    """A signed-in browser: the hash of its cookie's token, whose account, until when."""

    __tablename__ = "sign_in_session"
    __table_args__ = (Index("ix_sign_in_session_account", "account_id"),)

    token_hash: str = Field(primary_key=True, sa_type=String(64))
    account_id: int = Field(foreign_key="account.id", ondelete="CASCADE")
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)


class AuditEntry(SQLModel, table=True):
    """Who did what, and when: starts, steers, ends, exports, watches, account changes."""

    __tablename__ = "audit_entry"
    __table_args__ = (
        Index("ix_audit_entry_at", "at"),
        Index("ix_audit_entry_conversation", "conversation_id"),
    )

    id: int | None = Field(default=None, primary_key=True, sa_type=BigIntPK)
    at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    actor: str = Field(sa_type=String(EMAIL_LENGTH))
    """The account's email (kept as written then, so it reads right after the account goes)."""
    action: str = Field(sa_type=String(64))
    conversation_id: str | None = Field(default=None, sa_type=String(128))
    detail: str = Field(default="", sa_type=Text)
