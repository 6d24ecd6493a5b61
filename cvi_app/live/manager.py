"""`SessionManager`: starts conversations, keeps their live sessions, and checks who may use them.

One per backend process (`get_manager()`). Every tab action on a conversation goes through
`session_for(conversation_id, owner=...)`, which refuses a tab that did not create it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from pydantic import BaseModel, Field

from cvi_app.access.start_limits import StartLimiter
from cvi_app.config import Settings, get_settings, sandbox_api_key
from cvi_app.live.bus import EventBus
from cvi_app.live.demo_tools import register_demo_tools
from cvi_app.live.errors import NotAllowedError, SessionError
from cvi_app.live.orphans import OrphanSweeper, may_have_created
from cvi_app.live.recorder import StoreRecorder
from cvi_app.live.session import ConversationSession
from cvi_app.live.tools import ToolRegistry
from cvi_app.live.updates import LiveUpdate
from cvi_app.presentation.errors import describe_error
from cvi_app.store.conversations import (
    create_conversation,
    get_conversation,
    is_owner,
    update_conversation_status,
)
from cvi_app.store.db import get_engine, run_in_transaction
from cvi_app.store.models import ConversationCreate
from cvi_app.store.writer import EventWriter
from cvi_app.tavus import TavusClient, TavusError
from cvi_app.tavus.models import Conversation, Persona, Replica
from cvi_app.transport import RoomTransport, TransportParams, create_transport
from cvi_app.webhooks.verify import ApiAnswer, conversation_at_api

logger = logging.getLogger(__name__)


class StartOptions(BaseModel):
    """What a person chooses when starting a conversation (all optional)."""

    persona_id: str | None = None
    replica_id: str | None = None
    name: str = Field(default="", max_length=200)
    context: str = Field(default="", max_length=20_000)
    greeting: str = Field(default="", max_length=2_000)
    max_call_duration: int = Field(default=3600, ge=10, le=24 * 3600)
    participant_left_timeout: int = Field(default=60, ge=0, le=3600)
    participant_absent_timeout: int = Field(default=300, ge=10, le=3600)
    require_auth: bool = True


class SessionManager:
    """Owns every live `ConversationSession` of this process.

    Args:
        settings: The app's settings (mode, API base and key, webhook URL).
        tools: Tools answered automatically (the demo tools when None).
        api_timeout: Seconds to wait for each Tavus API answer.
        orphan_window: Seconds to keep looking for a conversation the API created for a start
            that failed without a clear answer (it is then ended).
        join_timeout: Seconds the room transport may take to join (None: its default).
    """

    def __init__(
        self,
        settings: Settings,
        *,
        tools: ToolRegistry | None = None,
        api_timeout: float = 10.0,
        orphan_window: float = 60.0,
        join_timeout: float | None = None,
    ) -> None:
        self.settings = settings
        self.api_timeout = api_timeout
        self.join_timeout = join_timeout
        self.orphans = OrphanSweeper(self.client, window=orphan_window)
        self.bus: EventBus[LiveUpdate] = EventBus()
        self.tools = tools or register_demo_tools(ToolRegistry())
        self._sessions: dict[str, ConversationSession] = {}
        self._owners: dict[str, str] = {}
        self._join_urls: dict[str, str] = {}
        self._writer: EventWriter | None = None
        self._lock = asyncio.Lock()
        self.start_limits = StartLimiter(
            per_browser=settings.start_limit_browser,
            per_address=settings.start_limit_address,
            live_per_browser=settings.live_limit_browser,
        )

    # ---- the REST side --------------------------------------------------------------

    def client(self) -> TavusClient:
        """A Tavus client for the current mode.

        In sandbox mode it talks to the sandbox service at `CVI_SANDBOX_URL` when that is set,
        else to the sandbox this app mounts (`Settings.sandbox_api_base`).
        """
        s = self.settings
        if s.mode == "tavus" and s.tavus_api_key is not None:
            key = s.tavus_api_key.get_secret_value()
        else:
            # The configured key (the service's, which settings require with CVI_SANDBOX_URL),
            # else the one this process's own mounted sandbox made.
            key = s.sandbox_api_key.get_secret_value() if s.sandbox_api_key else sandbox_api_key()
        return TavusClient(api_key=key, base_url=s.api_base, timeout=self.api_timeout)

    async def catalog(self) -> tuple[list[Persona], list[Replica]]:
        """The personas and replicas a conversation can be started with."""
        async with self.client() as client:
            personas = await client.list_personas(limit=100)
            replicas = await client.list_replicas(limit=100)
        return list(personas.data), list(replicas.data)

    async def start_conversation(
        self, *, owner: str, options: StartOptions, address: str | None = None
    ) -> Conversation:
        """Create a conversation through the API, record it, and join its room.

        Starts are metered per browser (`owner`) and per client `address` before anything is
        created (`StartLimited` says why one is refused). A start that fails leaves nothing
        behind: no session, and no conversation left running at the API (one created before the
        failure, or created late after a timeout, is ended).
        """
        if not owner:
            raise NotAllowedError("Your browser has no session yet; reload the page.")
        self.start_limits.check(
            owner=owner, address=address, live=len(self.live_conversations(owner=owner))
        )
        callback_url, attempt = self.orphans.mark(self.settings.webhook_url())
        try:
            conversation = await self._create(options, callback_url=callback_url)
        except TavusError as exc:
            if may_have_created(exc):
                self.orphans.sweep(attempt)
            raise
        try:
            await self._take_over(conversation, owner=owner, options=options)
        except BaseException as exc:
            await self._abandon(conversation, reason=describe_error(exc))
            raise
        return conversation

    async def _create(self, options: StartOptions, *, callback_url: str) -> Conversation:
        async with self.client() as client:
            return await client.create_conversation(
                persona_id=options.persona_id or None,
                replica_id=options.replica_id or None,
                conversation_name=options.name or None,
                conversational_context=options.context or None,
                custom_greeting=options.greeting or None,
                callback_url=callback_url,
                require_auth=options.require_auth,
                properties={
                    "max_call_duration": options.max_call_duration,
                    "participant_left_timeout": options.participant_left_timeout,
                    "participant_absent_timeout": options.participant_absent_timeout,
                },
            )

    async def _take_over(
        self, conversation: Conversation, *, owner: str, options: StartOptions
    ) -> None:
        """Record a conversation the API just created and join its room."""
        if not conversation.conversation_url:
            raise TavusError("the API returned a conversation without a room URL")
        cid = conversation.conversation_id
        record = ConversationCreate(
            conversation_id=cid,
            mode=self.settings.mode,
            name=options.name or conversation.conversation_name or "",
            persona_id=conversation.persona_id or options.persona_id,
            replica_id=conversation.replica_id or options.replica_id,
            conversation_url=conversation.conversation_url,
            owner_session=owner,
            context=options.context or None,
            greeting=options.greeting or None,
        )
        engine = get_engine()
        await run_in_transaction(engine, lambda s: create_conversation(s, data=record))
        self._owners[cid] = owner
        self._join_urls[cid] = conversation.join_url or conversation.conversation_url
        await self._open_session(cid, conversation.conversation_url, conversation.meeting_token)

    async def _abandon(self, conversation: Conversation, *, reason: str) -> None:
        """Undo a start that failed after the API created the conversation.

        Nothing is left half-made: the conversation is ended at the API (so it costs nothing),
        its record, if one was written, says it ended and why, and no session or owner stays.
        """
        cid = conversation.conversation_id
        logger.warning("conversation %s: start failed after creation: %s", cid, reason)
        session = self._sessions.pop(cid, None)
        if session is not None:
            await session.close(f"start failed: {reason}")
        self._owners.pop(cid, None)
        self._join_urls.pop(cid, None)
        try:
            async with self.client() as client:
                await client.end_conversation(cid)
        except TavusError as exc:
            logger.warning("conversation %s: ending the failed start failed: %s", cid, exc)
        try:
            await run_in_transaction(
                get_engine(),
                lambda s: update_conversation_status(
                    s,
                    conversation_id=cid,
                    status="ended",
                    shutdown_reason=f"start failed: {reason}",
                ),
            )
        except Exception:
            logger.exception("conversation %s: recording the failed start failed", cid)

    async def end_conversation(self, conversation_id: str, *, owner: str) -> None:
        """End the call for everyone (REST end) and close the session."""
        session = self.session_for(conversation_id, owner=owner)
        try:
            async with self.client() as client:
                await client.end_conversation(conversation_id)
        except TavusError as exc:
            logger.warning("conversation %s: REST end failed: %s", conversation_id, exc)
            await session.close("ended by the app (REST end failed)")
            raise
        await session.close("end_conversation_endpoint_hit")

    # ---- sessions -------------------------------------------------------------------

    async def _open_session(
        self, cid: str, room_url: str, token: str | None, transport: RoomTransport | None = None
    ) -> None:
        engine = get_engine()
        if self._writer is None:
            self._writer = EventWriter(engine)
        transport = transport or create_transport(
            self.settings.mode,
            TransportParams(room_url=room_url, meeting_token=token, user_name="cvi-studio"),
            join_timeout=self.join_timeout,
        )
        session = ConversationSession(
            cid,
            transport,
            bus=self.bus,
            recorder=StoreRecorder(cid, engine=engine, writer=self._writer),
            tools=self.tools,
            on_end=lambda reason: self._forget(cid),
        )
        self._sessions[cid] = session
        try:
            await session.start()
        except Exception:
            self._sessions.pop(cid, None)
            raise

    def _forget(self, cid: str) -> None:
        self._sessions.pop(cid, None)

    async def owner_of(self, conversation_id: str) -> str | None:
        """Who controls a conversation (from memory, else the store)."""
        owner = self._owners.get(conversation_id)
        if owner is None:
            engine = get_engine()
            row = await run_in_transaction(
                engine, lambda s: get_conversation(s, conversation_id=conversation_id)
            )
            owner = row.owner_session if row is not None else None
        return owner

    async def check_owner(self, conversation_id: str, *, owner: str) -> None:
        """Raise `NotAllowedError` unless `owner` controls the conversation."""
        known = await self.owner_of(conversation_id)
        if not is_owner(known, owner):
            raise NotAllowedError()

    def session_for(self, conversation_id: str, *, owner: str) -> ConversationSession:
        """The live session of a conversation this owner controls."""
        known = self._owners.get(conversation_id)
        if not is_owner(known, owner):
            raise NotAllowedError()
        session = self._sessions.get(conversation_id)
        if session is None:
            raise SessionError("This conversation is not live any more.")
        return session

    def live_session(self, conversation_id: str) -> ConversationSession | None:
        """The conversation's session while it is live in this process (no owner check)."""
        return self._sessions.get(conversation_id)

    def join_url(self, conversation_id: str) -> str:
        """The URL (with meeting token) a browser joins the live call with; "" when not live.

        Callers check ownership first (`check_owner`): the URL carries the meeting token.
        """
        if conversation_id not in self._sessions:
            return ""
        return self._join_urls.get(conversation_id, "")

    def live_conversations(self, *, owner: str) -> list[str]:
        """Ids of the owner's conversations that are live in this process."""
        return [cid for cid in self._sessions if is_owner(self._owners.get(cid), owner)]

    # ---- after a restart, and ends the API confirmed ------------------------------------

    async def conversation_at_api(self, conversation_id: str) -> ApiAnswer:
        """Ask this mode's API whether a conversation is live, has ended, or is unknown to it.

        Raises:
            TavusError: The API could not be asked.
        """
        async with self.client() as client:
            return await conversation_at_api(client, conversation_id)

    async def end_at_api(self, conversation_id: str) -> None:
        """End a conversation at the API (no session needed; ending twice is harmless).

        Raises:
            TavusError: The API could not end it.
        """
        async with self.client() as client:
            await client.end_conversation(conversation_id)

    async def close_ended(self, conversation_id: str, *, reason: str | None) -> bool:
        """Close the live session of a conversation the API confirmed has ended.

        No owner check: nobody asks for this; the API said the conversation is over.

        Returns:
            Whether a live session was closed.
        """
        session = self._sessions.get(conversation_id)
        if session is None:
            return False
        await session.close(reason or "the conversation ended")
        return True

    async def resume_conversation(
        self,
        conversation_id: str,
        *,
        owner: str | None,
        room_url: str,
        meeting_token: str | None,
        join_url: str | None = None,
        transport: RoomTransport | None = None,
    ) -> ConversationSession:
        """Rejoin, as the server-side participant, a live conversation an earlier run started.

        The recorded owner keeps control; the session records into the same store rows.

        Args:
            conversation_id: The conversation (recorded in the store).
            owner: Its recorded owner (`owner_session`).
            room_url: Its room.
            meeting_token: The token its room needs, if any.
            join_url: What a browser joins the call with (default: `room_url`).
            transport: The room connection to use (default: the mode's own).

        Returns:
            The live session.
        """
        live = self._sessions.get(conversation_id)
        if live is not None:
            return live
        if owner:
            self._owners[conversation_id] = owner
        self._join_urls[conversation_id] = join_url or room_url
        try:
            await self._open_session(conversation_id, room_url, meeting_token, transport)
        except BaseException:
            self._owners.pop(conversation_id, None)
            self._join_urls.pop(conversation_id, None)
            raise
        return self._sessions[conversation_id]

    async def aclose(self) -> None:
        """End every session and flush the store (backend shutdown)."""
        await self.orphans.aclose()
        for session in list(self._sessions.values()):
            await session.close("backend shutting down")
        if self.settings.mode == "tavus":
            from cvi_app.transport.daily import wait_for_releases

            # A join that gave up waiting releases its Daily client only once Daily's own
            # attempt ends (about 19 s): let it, so no call is cut off half-released.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wait_for_releases(), timeout=25)
        if self._writer is not None:
            await self._writer.aclose()


_manager: SessionManager | None = None


def get_manager() -> SessionManager:
    """The process's session manager, made on first use."""
    global _manager
    if _manager is None:
        _manager = SessionManager(get_settings())
    return _manager


__all__: list[str] = [
    "NotAllowedError",
    "SessionManager",
    "StartOptions",
    "get_manager",
]
