"""Guest invitations: "Invite" in a room, and the guest's page (`/guest?invite=...`).

An operator (or the browser that owns the conversation) makes a signed link that expires in an
hour and admits one more person into the call, as a participant: the guest sees the replica
and can speak (type, in sandbox mode) and leave, never steer. The first browser to open the
link takes it; nobody else can use it after that.
"""

from __future__ import annotations

import logging
import secrets

import reflex as rx

from cvi_app.accounts.audit import record_action
from cvi_app.accounts.sessions import resolve_caller
from cvi_app.deployments.links import LinkRefused, link_signer
from cvi_app.deployments.queries import claim_invite, create_invite
from cvi_app.live.cluster.remote import RemoteSession
from cvi_app.live.manager import get_manager
from cvi_app.presentation.errors import describe_error
from cvi_app.state.app_state import AppState
from cvi_app.state.room_state import RoomState
from cvi_app.store.conversations import get_conversation
from cvi_app.store.db import get_engine, run_in_transaction

logger = logging.getLogger(__name__)

__all__ = ["GuestState", "InviteState", "INVITE_VALID_S"]

INVITE_VALID_S = 3600
ENDED = "This conversation has ended. Thank you for your time."


class InviteState(RoomState):
    """The room's "Invite" button and the link it made."""

    invite_link: str = ""

    @rx.event(background=True)
    async def invite(self):
        """Make a guest link into this conversation's call."""
        async with self:
            cid, credentials = await self._who()
            origin = self.router.url.origin
        caller = await resolve_caller(credentials)
        manager = get_manager()
        try:
            await manager.check_owner(cid, owner=caller.owner_for("drive"))
            stored = await run_in_transaction(
                get_engine(), lambda s: get_conversation(s, conversation_id=cid)
            )
            if stored is None or stored.status != "active":
                return rx.toast.error("Only a live conversation can have guests.")
            invite_id = secrets.token_urlsafe(12)
            await run_in_transaction(
                get_engine(),
                lambda s: create_invite(
                    s,
                    invite_id=invite_id,
                    conversation_id=cid,
                    created_by=caller.actor,
                    valid_for_s=INVITE_VALID_S,
                ),
            )
        except Exception as exc:
            logger.info("room %s: invite refused: %s", cid, exc)
            return rx.toast.error(describe_error(exc))
        token = link_signer().guest_invite(cid, invite_id, valid_for_s=INVITE_VALID_S)
        await record_action(caller, "invited a guest", conversation_id=cid)
        async with self:
            self.invite_link = f"{origin}/guest?invite={token}"
        return rx.toast.success("Invitation made: send the link to one person. It lasts an hour.")


class GuestState(rx.State):
    """A guest's tab: check the invitation, then join the call as a participant."""

    step: str = "loading"
    """loading, refused, check, call, left."""
    message: str = ""
    join_url: str = ""

    _conversation_id: str = ""
    _join_url: str = ""

    @rx.event(background=True)
    async def load(self):
        """Read the invitation and find the call it admits to."""
        async with self:
            token = str(self.router.url.query_parameters.get("invite", ""))
            browser = (await self.get_state(AppState)).ensure_owner()
            if self.step == "call":
                return  # a reconnect: the call goes on
        try:
            invite = link_signer().read_guest_invite(token)
        except LinkRefused as exc:
            async with self:
                self.step, self.message = "refused", str(exc)
            return
        cid = invite.conversation_id
        refusal = await run_in_transaction(
            get_engine(),
            lambda s: claim_invite(
                s, invite_id=invite.invite_id, conversation_id=cid, browser=browser
            ),
        )
        join_url = "" if refusal else await _join_url(cid)
        async with self:
            if refusal or not join_url:
                self.step, self.message = "refused", refusal or ENDED
                return
            self._conversation_id, self._join_url = cid, join_url
            self.step, self.message = "check", ""

    @rx.event
    def join(self) -> None:
        """Join the call."""
        if self.step == "check" and self._join_url:
            self.step, self.join_url = "call", self._join_url

    @rx.event
    def leave(self) -> None:
        """Leave the call (the conversation goes on for the others)."""
        if self.step == "call":
            self.step, self.join_url = "left", ""

    @rx.event
    def call_left(self, reason: str) -> None:
        """The call ended (the conversation is over, or the connection was lost)."""
        # "left" is the guest's own Leave in the call view: `leave` follows.
        if self.step == "call" and reason != "left":
            self.step, self.join_url, self.message = "left", "", ENDED


async def _join_url(cid: str) -> str:
    """What a browser joins the live call with ("" when it is not live)."""
    stored = await run_in_transaction(
        get_engine(), lambda s: get_conversation(s, conversation_id=cid)
    )
    if stored is None or stored.status != "active":
        return ""
    manager = get_manager()
    session = await manager.find_session(cid, owner=stored.owner_session or "")
    if isinstance(session, RemoteSession):
        return session.join_url
    return manager.join_url(cid) if session is not None else ""
