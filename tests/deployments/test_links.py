"""Signed page links and guest invitations: valid, expired, altered, or for something else."""

from __future__ import annotations

import pytest

from cvi_app.deployments.links import LinkRefused, LinkSigner


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_a_page_link_opens_its_page_until_it_expires() -> None:
    clock = Clock()
    signer = LinkSigner("secret", clock=clock)
    token = signer.page_link("support", valid_for_s=3600)
    assert signer.read_page_link(token, slug="support").expires_at == clock.now + 3600
    clock.now += 3601
    with pytest.raises(LinkRefused, match="expired"):
        signer.read_page_link(token, slug="support")


def test_a_page_link_does_not_open_another_page() -> None:
    signer = LinkSigner("secret")
    token = signer.page_link("support", valid_for_s=60)
    with pytest.raises(LinkRefused, match="not for this page"):
        signer.read_page_link(token, slug="sales")


@pytest.mark.parametrize(
    "alter",
    [
        lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),
        lambda t: "x" + t,
        lambda t: "",
        lambda t: t * 20,  # over the length limit
    ],
)
def test_an_altered_link_is_refused_in_plain_words(alter) -> None:
    signer = LinkSigner("secret")
    token = signer.page_link("support", valid_for_s=60)
    with pytest.raises(LinkRefused, match="not valid"):
        signer.read_page_link(alter(token), slug="support")


def test_a_link_signed_with_another_key_is_refused() -> None:
    token = LinkSigner("another").page_link("support", valid_for_s=60)
    with pytest.raises(LinkRefused, match="not valid"):
        LinkSigner("secret").read_page_link(token, slug="support")


def test_an_invitation_is_never_taken_for_a_page_link_or_the_reverse() -> None:
    signer = LinkSigner("secret")
    invite = signer.guest_invite("c123", "i1", valid_for_s=60)
    page = signer.page_link("support", valid_for_s=60)
    with pytest.raises(LinkRefused):
        signer.read_page_link(invite, slug="support")
    with pytest.raises(LinkRefused):
        signer.read_guest_invite(page)
    read = signer.read_guest_invite(invite)
    assert (read.conversation_id, read.invite_id) == ("c123", "i1")


def test_links_cannot_be_made_to_last_for_ever() -> None:
    signer = LinkSigner("secret")
    with pytest.raises(ValueError):
        signer.page_link("support", valid_for_s=91 * 86400)
    with pytest.raises(ValueError):
        signer.guest_invite("c1", "i1", valid_for_s=2 * 86400)
