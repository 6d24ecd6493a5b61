"""A visitor on a public page (`/p/<slug>`): landing, device check, the call, the end screen.

The visitor has no account. What they may act on is the one conversation this tab started: its
id is kept on the server (a backend-only var), never taken from the page, and the visitor can
only say things in the call, leave it, and rate it. Every refusal is a friendly sentence.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import reflex as rx

from cvi_app.accounts.passwords import verify_password
from cvi_app.deployments.links import LinkRefused, link_signer
from cvi_app.deployments.models import Deployment
from cvi_app.deployments.queries import get_deployment, rate_visit
from cvi_app.deployments.visits import VisitLimiter, VisitRefused, start_visit
from cvi_app.live.bus_factory import configured_redis_url
from cvi_app.live.manager import get_manager
from cvi_app.state.app_state import AppState
from cvi_app.store.db import get_engine, run_in_transaction

logger = logging.getLogger(__name__)

__all__ = ["VisitState"]

NOT_FOUND = "This page does not exist, or it is not open at the moment."
CODE_LIMIT = 10
"""Wrong access codes a tab may try before it has to reload."""

_limiter: VisitLimiter | None = None


def _visit_limiter() -> VisitLimiter:
    global _limiter
    if _limiter is None:
        from limits.storage import RedisStorage

        url = configured_redis_url()
        _limiter = VisitLimiter(RedisStorage(url) if url else None)
    return _limiter


async def _page(slug: str) -> Deployment | None:
    found = await run_in_transaction(get_engine(), lambda s: get_deployment(s, slug=slug[:48]))
    return found if found is not None and found.enabled else None


def text_colour_on(background: str) -> str:
    """Black or white (as CSS names): whichever contrasts more with `background` (#rrggbb)."""

    def channel(hex_pair: str) -> float:
        c = int(hex_pair, 16) / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    try:
        r, g, b = (channel(background[i : i + 2]) for i in (1, 3, 5))
    except ValueError:
        return "white"
    luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
    # Contrast with white is 1.05 / (L + 0.05); with black, (L + 0.05) / 0.05.
    return "white" if 1.05 / (luminance + 0.05) >= (luminance + 0.05) / 0.05 else "black"


def _host_event(kind: str, **detail: Any) -> rx.event.EventSpec:
    """Tell the page that embeds this one (if any) what happened (see docs: host events)."""
    return rx.call_script(
        f"window.__cviHost && window.__cviHost.post({json.dumps(kind)}, {json.dumps(detail)})"
    )


class VisitState(rx.State):
    """One visitor's tab on a public page."""

    slug: str = ""
    step: str = "loading"
    """loading, closed, code, landing, check, starting, call, ended, rated."""
    title: str = ""
    intro: str = ""
    logo_url: str = ""
    accent: str = "#3e63dd"
    accent_text: str = "white"
    """Black or white: whichever reads better on the accent colour."""
    captions: bool = True
    transparent: bool = False
    """The replica on the page's own background (greenscreen keyed out in the browser)."""
    embed: bool = False
    host_origins: str = "[]"
    """The origins that may embed the page (JSON), which host events are posted to."""
    message: str = ""
    join_url: str = ""
    code_error: str = ""
    devices_ok: bool = False
    rating_error: str = ""

    _slug: str = ""
    _admitted: bool = False
    _conversation_id: str = ""
    _code_tries: int = 0

    @rx.event
    async def load(self):
        """Open the page of the address, and check the visitor may start there."""
        slug = str(self.router.page.params.get("slug", ""))[:48]
        params = self.router.url.query_parameters
        self.embed = params.get("embed", "") == "1"
        if slug != self._slug:
            self._slug, self._admitted, self._conversation_id = slug, False, ""
        self.slug = slug
        deployment = await _page(slug)
        if deployment is None:
            self.step, self.message, self.title = "closed", NOT_FOUND, "Page not found"
            return
        self.title, self.intro = deployment.title, deployment.intro
        self.logo_url, self.accent = deployment.logo_url, deployment.accent_color
        self.accent_text = text_colour_on(deployment.accent_color)
        self.captions = deployment.captions
        self.transparent = deployment.transparent
        self.host_origins = json.dumps(deployment.origins())
        if self.step in ("call", "starting") and self._conversation_id:
            return  # a reconnect: the call goes on
        self.message, self.join_url = "", ""
        if deployment.access == "link" and not self._admitted:
            try:
                link_signer().read_page_link(str(params.get("k", "")), slug=slug)
            except LinkRefused as exc:
                self.step, self.message = "closed", str(exc)
                return
            self._admitted = True
        if deployment.access == "code" and not self._admitted:
            self.step = "code"
            return
        self._admitted = True
        self.step = "landing"

    @rx.event
    async def enter_code(self, form: dict[str, Any]):
        """Check the access code the visitor typed."""
        code = str(form.get("code", ""))[:64]
        deployment = await _page(self._slug)
        if deployment is None:
            self.step, self.message = "closed", NOT_FOUND
            return
        if self._code_tries >= CODE_LIMIT:
            self.code_error = "Too many tries. Reload the page to try again."
            return
        self._code_tries += 1
        if not code or not verify_password(code, deployment.access_code_hash):
            self.code_error = "That code is not right. Check it and try again."
            return
        self._admitted, self.code_error, self.step = True, "", "landing"

    @rx.event
    def begin(self) -> None:
        """From the landing page to the camera and microphone check."""
        if self._admitted and self.step in ("landing", "ended", "rated"):
            self.step, self.message, self.devices_ok = "check", "", False

    @rx.event
    def devices_checked(self, devices: dict[str, Any]) -> None:
        """What the device check found (a visitor may join without devices, by typing)."""
        self.devices_ok = bool(devices.get("camera_ok")) or bool(devices.get("microphone_ok"))

    @rx.event
    def device_problem(self, kind: str, message: str) -> None:
        """Log what the device check could not do (the visitor reads a sentence there)."""
        logger.info(
            "page %s: device check: %s (%s)", self._slug, str(kind)[:32], str(message)[:300]
        )

    @rx.event
    def back(self) -> None:
        """Back to the landing page."""
        if self.step == "check":
            self.step = "landing"

    @rx.event(background=True)
    async def start(self):
        """Start the visitor's conversation, under the page's limits."""
        async with self:
            if self.step != "check" or not self._admitted:
                return None
            self.step, self.message = "starting", ""
            slug = self._slug
            visitor = (await self.get_state(AppState)).ensure_owner()
            address = self.router.session.client_ip or None
        deployment = await _page(slug)
        if deployment is None:
            async with self:
                self.step, self.message = "closed", NOT_FOUND
            return None
        manager = get_manager()
        try:
            conversation = await start_visit(
                manager, deployment, visitor=visitor, address=address, limiter=_visit_limiter()
            )
        except VisitRefused as exc:
            async with self:
                self.step, self.message = "landing", str(exc)
            return _host_event("cvi.error", message=str(exc))
        cid = conversation.conversation_id
        async with self:
            self._conversation_id = cid
            self.join_url = manager.join_url(cid)
            self.step = "call"
        return _host_event("cvi.conversation_started", page=slug)

    @rx.event(background=True)
    async def leave(self):
        """End the visitor's conversation and show the end screen."""
        async with self:
            cid, slug = self._conversation_id, self._slug
            if self.step != "call" or not cid:
                return None
            self.step, self.join_url = "ended", ""
        deployment = await _page(slug)
        owner = deployment.owner_session if deployment is not None else ""
        try:
            await get_manager().end_conversation(cid, owner=owner)
        except Exception as exc:
            logger.info("page %s: ending %s: %s", slug, cid, exc)
        return _host_event("cvi.conversation_ended", reason="the visitor left")

    @rx.event
    def call_left(self, reason: str):
        """The call ended on its own (time limit, the agent ended it, the connection)."""
        # "left" is the visitor's own Leave in the call view: `leave` follows and ends it.
        if self.step != "call" or reason == "left":
            return None
        self.step, self.join_url = "ended", ""
        return _host_event("cvi.conversation_ended", reason=str(reason)[:200])

    @rx.event
    async def send_rating(self, form: dict[str, Any]):
        """Store the visitor's rating and comment with their conversation."""
        rating = str(form.get("rating", ""))
        comment = str(form.get("comment", ""))[:1000]
        if rating not in ("1", "2", "3", "4", "5"):
            self.rating_error = "Choose from 1 to 5 stars first."
            return
        # Only the conversation this tab started (its id never comes from the page).
        cid = self._conversation_id
        if not cid or self.step != "ended":
            return
        stored = await run_in_transaction(
            get_engine(),
            lambda s: rate_visit(s, conversation_id=cid, rating=int(rating), comment=comment),
        )
        if not stored:
            self.rating_error = "We could not save your rating. Thank you anyway!"
            return
        self.rating_error, self.step = "", "rated"

    @rx.event
    def again(self) -> None:
        """Back to the start, for another conversation."""
        if self.step in ("ended", "rated"):
            self._conversation_id = ""
            self.step = "landing"
