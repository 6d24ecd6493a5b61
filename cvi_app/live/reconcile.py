"""The start-up reconcile: settle every conversation an earlier run left recorded as `active`.

A backend that dies (`kill -9`, a crash, a power cut) cannot record the end of the
conversations it was running, and in tavus mode they keep running at Tavus with nobody attending.
On start-up, each conversation recorded `active` is checked with the API of the app's mode:

- unknown to the API (the in-app sandbox restarted with the app), or ended there: recorded
  ended, with the API's reason when it gives one, else a plain sentence;
- still live with a person in its room: rejoined as the server-side participant (a new session
  for its recorded owner), so the person's call goes on and the app drives it again;
- still live with nobody in it: ended at the API (so it is not billed until its timeout) and
  recorded ended with a plain sentence;
- the API cannot be asked (or cannot end it): left `active` and logged; the next start tries
  again.

Only conversations of the running mode are reconciled: a sandbox-mode run has no key for Tavus,
and a tavus-mode run has no sandbox (the in-app one lives and dies with its process; its
conversations are settled by the next sandbox-mode start). Conversations created after the
reconcile began, or live in this process, are left alone. In the cluster shape (Redis), another
process may be running a conversation: there the takeover watch settles conversations nobody
holds a lease on (`cvi_app.live.cluster.takeover`), and this reconcile does not run.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import Session

from cvi_app.config import Mode
from cvi_app.live.manager import SessionManager, get_manager
from cvi_app.store.conversations import list_active_conversations, update_conversation_status
from cvi_app.store.db import get_engine, run_in_transaction
from cvi_app.store.models import Conversation
from cvi_app.store.types import utc_now
from cvi_app.tavus import TavusError
from cvi_app.transport import RoomTransport, TransportParams, create_transport

__all__ = [
    "ALREADY_ENDED",
    "COULD_NOT_REJOIN",
    "NOBODY_THERE",
    "ReconcileReport",
    "TransportFactory",
    "reconcile_at_startup",
    "reconcile_conversations",
]

logger = logging.getLogger(__name__)

ALREADY_ENDED = "The app restarted and the conversation had already ended."
NOBODY_THERE = "The app restarted and nobody was left in the conversation, so it was ended."
COULD_NOT_REJOIN = "The app restarted and could not rejoin the conversation, so it was ended."

PAGE = 100

TransportFactory = Callable[[Mode, TransportParams], RoomTransport]
"""Makes the room connection for a mode (`create_transport` unless a test gives another)."""


@dataclass
class ReconcileReport:
    """What one reconcile pass did, by conversation id."""

    ended: list[str] = field(default_factory=list)
    rejoined: list[str] = field(default_factory=list)
    left_active: list[str] = field(default_factory=list)


async def reconcile_at_startup(
    manager: SessionManager | None = None, *, attempts: int = 3, pause: float = 2.0
) -> ReconcileReport:
    """The app's lifespan task: reconcile, retrying what the API could not answer.

    In sandbox mode the API is this very backend, which may not be listening yet when the task
    starts; a few passes apart give it time.

    Args:
        manager: The session manager (the process's one by default).
        attempts: Passes at most, while some conversations are left unsettled.
        pause: Seconds between passes.

    Returns:
        What the last pass did (conversations still unsettled are in `left_active`).
    """
    if os.environ.get("REFLEX_REDIS_URL"):
        logger.info("reconcile skipped: in the cluster the takeover watch settles conversations")
        return ReconcileReport()
    manager = manager or get_manager()
    started = utc_now()
    report = ReconcileReport()
    for attempt in range(attempts):
        try:
            report = await reconcile_conversations(manager, created_before=started)
        except Exception:
            logger.exception("reconcile pass %d failed", attempt + 1)
        else:
            if not report.left_active:
                break
        if attempt + 1 < attempts:
            await asyncio.sleep(pause)
    if report.left_active:
        logger.warning(
            "reconcile: %d conversation(s) left active for the next start: %s",
            len(report.left_active),
            ", ".join(report.left_active),
        )
    return report


async def reconcile_conversations(
    manager: SessionManager,
    *,
    engine: Engine | None = None,
    created_before: datetime | None = None,
    transport_factory: TransportFactory | None = None,
    presence_wait: float = 1.0,
) -> ReconcileReport:
    """Settle every conversation of this mode recorded `active`, once (see the module doc).

    Args:
        manager: The session manager that rejoins conversations and asks the API.
        engine: The store (the app's by default).
        created_before: Only conversations recorded before this moment (default: now).
        transport_factory: Makes room connections (default: the mode's own transport).
        presence_wait: Seconds to wait after joining a room for its people to show.

    Returns:
        What was done with each conversation.
    """
    engine = engine or get_engine()
    mode = manager.settings.mode
    before = created_before or utc_now()
    report = ReconcileReport()
    factory = transport_factory or create_transport
    after: str | None = None
    while True:
        page = await run_in_transaction(
            engine,
            functools.partial(_active_page, mode=mode, created_before=before, after_id=after),
        )
        if not page:
            break
        after = page[-1].conversation_id
        for record in page:
            if manager.live_session(record.conversation_id) is not None:
                continue
            await _settle(manager, engine, record, report, factory, presence_wait)
    logger.info(
        "reconcile: %d ended, %d rejoined, %d left active",
        len(report.ended),
        len(report.rejoined),
        len(report.left_active),
    )
    return report


def _active_page(
    session: Session, *, mode: str, created_before: datetime, after_id: str | None
) -> list[Conversation]:
    return list_active_conversations(
        session, mode=mode, created_before=created_before, after_id=after_id, limit=PAGE
    )


async def _settle(
    manager: SessionManager,
    engine: Engine,
    record: Conversation,
    report: ReconcileReport,
    transport_factory: TransportFactory,
    presence_wait: float,
) -> None:
    cid = record.conversation_id
    try:
        answer = await manager.conversation_at_api(cid)
    except TavusError as exc:
        logger.warning("reconcile %s: the API could not be asked: %s", cid, exc)
        report.left_active.append(cid)
        return
    if answer.state != "live" or answer.conversation is None:
        logger.info("reconcile %s: %s at the API; recorded ended", cid, answer.state)
        await _record_end(engine, cid, answer.reason or ALREADY_ENDED)
        report.ended.append(cid)
        return
    live = answer.conversation
    room_url = live.conversation_url or record.conversation_url
    params = TransportParams(
        room_url=room_url or "", meeting_token=live.meeting_token, user_name="cvi-studio"
    )
    try:
        if not room_url:
            raise TavusError("the API gave no room URL")
        someone_there = await _anyone_in_room(
            transport_factory(manager.settings.mode, params), presence_wait
        )
        if someone_there:
            await manager.resume_conversation(
                cid,
                owner=record.owner_session,
                room_url=room_url,
                meeting_token=live.meeting_token,
                join_url=live.join_url,
                transport=transport_factory(manager.settings.mode, params),
            )
            logger.info("reconcile %s: still live with a person in it; rejoined", cid)
            report.rejoined.append(cid)
            return
        reason = NOBODY_THERE
    except Exception as exc:
        logger.warning("reconcile %s: rejoining failed: %s: %s", cid, type(exc).__name__, exc)
        reason = COULD_NOT_REJOIN
    try:
        await manager.end_at_api(cid)
    except TavusError as exc:
        logger.warning("reconcile %s: ending it at the API failed: %s", cid, exc)
        report.left_active.append(cid)
        return
    logger.info("reconcile %s: ended at the API: %s", cid, reason)
    await _record_end(engine, cid, reason)
    report.ended.append(cid)


async def _anyone_in_room(transport: RoomTransport, wait: float) -> bool:
    """Join the room, look for a person (not a replica, not this app) for `wait` s, and leave."""
    await transport.join()
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        while True:
            me = transport.local_participant
            if any(
                not p.is_replica and (me is None or p.id != me.id)
                for p in transport.participants().values()
            ):
                return True
            if loop.time() >= deadline:
                return False
            await asyncio.sleep(0.05)
    finally:
        await transport.leave()


async def _record_end(engine: Engine, cid: str, reason: str) -> None:
    await run_in_transaction(
        engine,
        lambda s: update_conversation_status(
            s, conversation_id=cid, status="ended", shutdown_reason=reason
        ),
    )
