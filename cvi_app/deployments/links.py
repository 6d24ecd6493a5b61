"""Signed, expiring links: a page's private links, and guest invitations into a live call.

Both are `itsdangerous` tokens signed with the app's secret key, each kind under its own salt
(a page link is never taken for an invitation, or the reverse). The expiry travels inside the
signed payload, so each link can have its own; a token that was altered, signed by another key,
or has expired reads as `None`, with the reason in `LinkRefused`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeSerializer

__all__ = [
    "GuestInvite",
    "LinkRefused",
    "LinkSigner",
    "PageLink",
    "link_signer",
]

MAX_TOKEN = 512
"""Longer tokens are refused unread."""
MAX_LINK_DAYS = 90


class LinkRefused(Exception):
    """A link that cannot be used; the message is meant for the person holding it."""


@dataclass(frozen=True)
class PageLink:
    """Admits visitors to a page whose access is "signed links"."""

    slug: str
    expires_at: float


@dataclass(frozen=True)
class GuestInvite:
    """Admits one more person into a live conversation's call (not as a controller)."""

    conversation_id: str
    invite_id: str
    expires_at: float


class LinkSigner:
    """Makes and reads the app's signed links.

    Args:
        secret_key: The app's `CVI_SECRET_KEY`.
        clock: Seconds since the epoch (for tests).
    """

    def __init__(self, secret_key: str, *, clock=time.time) -> None:
        self._pages = URLSafeSerializer(secret_key, salt="cvi-page-link")
        self._guests = URLSafeSerializer(secret_key, salt="cvi-guest-invite")
        self._clock = clock

    def page_link(self, slug: str, *, valid_for_s: float) -> str:
        """A token for `/p/<slug>?k=<token>`, valid for `valid_for_s` seconds."""
        if not 0 < valid_for_s <= MAX_LINK_DAYS * 86400:
            raise ValueError(f"a link may last up to {MAX_LINK_DAYS} days")
        return self._pages.dumps({"s": slug, "e": int(self._clock() + valid_for_s)})

    def read_page_link(self, token: str, *, slug: str) -> PageLink:
        """The page link in `token`, for the page `slug`.

        Raises:
            LinkRefused: It is not a valid link to this page, or it has expired.
        """
        payload = self._load(self._pages, token)
        if payload.get("s") != slug:
            raise LinkRefused("This link is not for this page. Ask whoever sent it for a new one.")
        expires = self._expiry(payload)
        return PageLink(slug=slug, expires_at=expires)

    def guest_invite(self, conversation_id: str, invite_id: str, *, valid_for_s: float) -> str:
        """A token for `/guest/<token>`: one more person in `conversation_id`'s call."""
        if not 0 < valid_for_s <= 86400:
            raise ValueError("an invitation may last up to a day")
        return self._guests.dumps(
            {"c": conversation_id, "i": invite_id, "e": int(self._clock() + valid_for_s)}
        )

    def read_guest_invite(self, token: str) -> GuestInvite:
        """The invitation in `token`.

        Raises:
            LinkRefused: It is not a valid invitation, or it has expired.
        """
        payload = self._load(self._guests, token)
        cid, invite_id = payload.get("c"), payload.get("i")
        if not isinstance(cid, str) or not isinstance(invite_id, str):
            raise LinkRefused(_NOT_VALID)
        return GuestInvite(
            conversation_id=cid, invite_id=invite_id, expires_at=self._expiry(payload)
        )

    def _load(self, serializer: URLSafeSerializer, token: str) -> dict[str, object]:
        if not token or len(token) > MAX_TOKEN:
            raise LinkRefused(_NOT_VALID)
        try:
            payload = serializer.loads(token)
        except BadSignature:
            raise LinkRefused(_NOT_VALID) from None
        if not isinstance(payload, dict):
            raise LinkRefused(_NOT_VALID)
        return payload

    def _expiry(self, payload: dict[str, object]) -> float:
        expires = payload.get("e")
        if not isinstance(expires, int):
            raise LinkRefused(_NOT_VALID)
        if expires <= self._clock():
            raise LinkRefused("This link has expired. Ask whoever sent it for a new one.")
        return float(expires)


def link_signer() -> LinkSigner:
    """The signer of this app's links (its `CVI_SECRET_KEY`)."""
    from cvi_app.config import get_settings

    return LinkSigner(get_settings().secret_key.get_secret_value())


_NOT_VALID = "This link is not valid. Check that it was copied whole, or ask for a new one."
