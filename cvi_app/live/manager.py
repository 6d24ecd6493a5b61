"""`SessionManager`: starts conversations, keeps their live sessions, and checks who may use them.

One per backend process (`get_manager()`). Every tab action on a conversation goes through
`controls_for(conversation_id, owner=...)` (or, for a session known to be here, `session_for`),
which refuses a tab that did not create it.

In the cluster shape (`REFLEX_REDIS_URL` set) the manager's `ClusterNode` holds a Redis lease for
every session this process runs; a conversation held by another process is driven through a
`RemoteSession`, and a conversation nobody holds any more is taken over (`take_over`).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Callable
from typing import Any

import httpx
from limits.storage import RedisStorage
from pydantic import BaseModel, Field
from redis.exceptions import RedisError

from cvi_app.access.caller import TEAM_OWNER
from cvi_app.access.start_limits import StartLimited, StartLimiter
from cvi_app.config import Settings, get_settings, sandbox_api_key
from cvi_app.live.bus import LiveBus
from cvi_app.live.bus_factory import configured_redis_url, make_bus
from cvi_app.live.cluster.commands import CommandReply, SessionCommand
from cvi_app.live.cluster.dispatch import run_command
from cvi_app.live.cluster.node import ClusterNode
from cvi_app.live.cluster.remote import RemoteSession
from cvi_app.live.cluster.takeover import unstored_updates
from cvi_app.live.demo_tools import register_demo_tools
from cvi_app.live.errors import NotAllowedError, SessionError
from cvi_app.live.orphans import OrphanSweeper, may_have_created
from cvi_app.live.recorder import StoreRecorder
from cvi_app.live.redis_bus import RedisBus
from cvi_app.live.session import ConversationSession
from cvi_app.live.summary import LiveSummary
from cvi_app.live.tools import ToolRegistry, app_tools
from cvi_app.live.updates import EventReceived, LiveUpdate, StatusChanged
from cvi_app.presentation.errors import describe_error
from cvi_app.store.conversations import (
    create_conversation,
    get_conversation,
    is_owner,
    list_active_conversations,
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
    language: str = Field(default="", max_length=32)
    """The conversation's language ("" leaves the API's default)."""
    captions: bool = False
    """Closed captions in the call (`enable_closed_captions`)."""
    transparent: bool = False
    """The replica on a greenscreen for the browser to key out (`apply_greenscreen`)."""
    record: bool = False
    """Tavus records the call (`enable_recording`, stored where the settings say)."""


class VisitTag(BaseModel):
    """A conversation a visitor starts from a public page (`cvi_app.deployments`)."""

    deployment_id: int
    visitor: str = Field(max_length=128)
    """The visitor's browser identity (its page checked the page's own limits)."""


class SessionManager:
    """Owns every live `ConversationSession` of this process.

    Args:
        settings: The app's settings (mode, API base and key, webhook URL).
        tools: Tools answered automatically (the demo tools when None).
        api_timeout: Seconds to wait for each Tavus API answer.
        orphan_window: Seconds to keep looking for a conversation the API created for a start
            that failed without a clear answer (it is then ended).
        join_timeout: Seconds the room transport may take to join (None: its default).
        redis_url: The cluster's Redis; None: the embedded shape (one process).
        cluster: The cluster node to use (default: one made for `redis_url`).
    """

    def __init__(
        self,
        settings: Settings,
        *,
        tools: ToolRegistry | None = None,
        api_timeout: float = 10.0,
        orphan_window: float = 60.0,
        join_timeout: float | None = None,
        redis_url: str | None = None,
        cluster: ClusterNode | None = None,
    ) -> None:
        self.settings = settings
        self.api_timeout = api_timeout
        self.join_timeout = join_timeout
        self.orphans = OrphanSweeper(self.client, window=orphan_window)
        self.bus: LiveBus[LiveUpdate] = make_bus(redis_url)
        self.cluster = cluster or (ClusterNode(redis_url) if redis_url else None)
        self.tools = tools if tools is not None else register_demo_tools(ToolRegistry())
        self._sessions: dict[str, ConversationSession] = {}
        self._owners: dict[str, str] = {}
        self._join_urls: dict[str, str] = {}
        self._writer: EventWriter | None = None
        self._lock = asyncio.Lock()
        self._releases: set[asyncio.Task[None]] = set()
        self._http: httpx.AsyncClient | None = None
        self._http_loop: asyncio.AbstractEventLoop | None = None
        self.start_limits = StartLimiter(
            per_browser=settings.start_limit_browser,
            per_address=settings.start_limit_address,
            live_per_browser=settings.live_limit_browser,
            storage=RedisStorage(redis_url) if redis_url else None,
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
        return TavusClient(
            api_key=key, base_url=s.api_base, timeout=self.api_timeout, http_client=self._pool()
        )

    def _pool(self) -> httpx.AsyncClient | None:
        # One connection pool for the process's API calls (a takeover asks the API about each
        # conversation it moves: new connections for each would cost a handshake apiece). A
        # pool belongs to the event loop that made it; outside a loop each client has its own.
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return None
        if self._http is None or self._http_loop is not loop or self._http.is_closed:
            self._http = httpx.AsyncClient(limits=httpx.Limits(max_connections=32))
            self._http_loop = loop
        return self._http

    async def catalog(self) -> tuple[list[Persona], list[Replica]]:
        """The personas and replicas a conversation can be started with."""
        async with self.client() as client:
            personas = await client.list_personas(limit=100)
            replicas = await client.list_replicas(limit=100)
        return list(personas.data), list(replicas.data)

    async def start_conversation(
        self,
        *,
        owner: str,
        options: StartOptions,
        address: str | None = None,
        started_by: str | None = None,
        visit: VisitTag | None = None,
    ) -> Conversation:
        """Create a conversation through the API, record it, and join its room.

        Starts are metered per browser (`owner`), or per account (`started_by`) when the team
        owns conversations, and per client `address` before anything is created
        (`StartLimited` says why one is refused). A visitor's start (`visit`) is metered by its
        page instead (`cvi_app.deployments.visits`); the team's live limit still applies. A start that fails leaves nothing behind: no
        session, and no conversation left running at the API (one created before the failure,
        or created late after a timeout, is ended).
        """
        if not owner:
            raise NotAllowedError("Your browser has no session yet; reload the page.")
        live = await self.live_conversations(owner=owner)
        team = owner == TEAM_OWNER
        if visit is None:
            # In a thread: with several processes the counts are in Redis.
            await asyncio.to_thread(
                self.start_limits.check,
                owner=(started_by or owner) if team else owner,
                address=address,
                live=len(live),
                team_limit=self.settings.live_limit_team if team else None,
            )
        elif team and len(live) >= self.settings.live_limit_team:
            raise StartLimited("The team has as many live conversations as it may have.")
        callback_url, attempt = self.orphans.mark(self.settings.webhook_url())
        try:
            conversation = await self._create(options, callback_url=callback_url)
        except TavusError as exc:
            if may_have_created(exc):
                self.orphans.sweep(attempt)
            raise
        try:
            await self._take_over(
                conversation, owner=owner, options=options, started_by=started_by, visit=visit
            )
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
                    **({"language": options.language} if options.language else {}),
                    **({"enable_closed_captions": True} if options.captions else {}),
                    **({"apply_greenscreen": True} if options.transparent else {}),
                    **self._recording(options),
                },
            )

    def _recording(self, options: StartOptions) -> dict[str, Any]:
        """The recording properties: only in tavus mode (the sandbox records nothing)."""
        if not options.record or self.settings.mode != "tavus":
            return {}
        storage = self.settings.recording_storage_config
        return {
            "enable_recording": True,
            **({"recording_storage": storage.model_dump(exclude_none=True)} if storage else {}),
        }

    async def _take_over(
        self,
        conversation: Conversation,
        *,
        owner: str,
        options: StartOptions,
        started_by: str | None = None,
        visit: VisitTag | None = None,
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
            started_by=started_by,
            max_call_duration=options.max_call_duration,
            context=options.context or None,
            greeting=options.greeting or None,
            deployment_id=visit.deployment_id if visit else None,
            visitor=visit.visitor if visit else None,
        )
        engine = get_engine()
        await run_in_transaction(engine, lambda s: create_conversation(s, data=record))
        if self.cluster is not None and not await self.cluster.acquire(cid):
            raise SessionError("Another server already runs this conversation.")
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
        """End the call for everyone (REST end) and close the session (wherever it runs)."""
        session = await self.controls_for(conversation_id, owner=owner)
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
        self,
        cid: str,
        room_url: str,
        token: str | None,
        transport: RoomTransport | None = None,
        *,
        resume_after: int = 0,
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
            resume_after=resume_after,
        )
        self._sessions[cid] = session
        try:
            await session.start()
        except Exception:
            self._sessions.pop(cid, None)
            raise

    def _forget(self, cid: str) -> None:
        self._sessions.pop(cid, None)
        if self.cluster is not None:
            task = asyncio.get_running_loop().create_task(self.cluster.release(cid))
            self._releases.add(task)
            task.add_done_callback(self._releases.discard)

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

    async def controls_for(
        self, conversation_id: str, *, owner: str
    ) -> ConversationSession | RemoteSession:
        """The live session of a conversation this owner controls, in whichever process.

        Raises:
            NotAllowedError: The owner may not use it.
            SessionError: It is not live (anywhere).
        """
        if conversation_id in self._sessions or self.cluster is None:
            return self.session_for(conversation_id, owner=owner)
        await self.check_owner(conversation_id, owner=owner)
        remote = await self.cluster.remote(conversation_id, owner=owner)
        if remote is None:
            raise SessionError("This conversation is not live any more.")
        return remote

    async def find_session(
        self, conversation_id: str, *, owner: str
    ) -> ConversationSession | RemoteSession | None:
        """The conversation's live session here, or as the process holding it describes it.

        The caller has checked the owner. None when no process runs it, or its holder does not
        answer (the room then shows what the store holds).
        """
        local = self._sessions.get(conversation_id)
        if local is not None or self.cluster is None:
            return local
        remote = await self.cluster.remote(conversation_id, owner=owner)
        if remote is None:
            return None
        try:
            return await remote.describe()
        except SessionError as exc:
            logger.info("conversation %s: its holder did not describe it: %s", conversation_id, exc)
            return None

    async def note_operator(
        self, conversation_id: str, *, owner: str, actor: str, action: str
    ) -> None:
        """Tell the tabs on a live conversation what an operator did (in whichever process).

        Best effort: a conversation that has just ended, or a holder that does not answer,
        is logged and skipped (the audit log has the action).
        """
        try:
            controls = await self.controls_for(conversation_id, owner=owner)
            await controls.note_operator(actor, action)
        except Exception as exc:
            logger.info("conversation %s: operator note not shown: %s", conversation_id, exc)

    def join_url(self, conversation_id: str) -> str:
        """The URL (with meeting token) a browser joins the live call with; "" when not live.

        Callers check ownership first (`check_owner`): the URL carries the meeting token.
        """
        if conversation_id not in self._sessions:
            return ""
        return self._join_urls.get(conversation_id, "")

    # ---- the cluster (see cvi_app.live.cluster) -----------------------------------------

    async def start(self) -> None:
        """Join the cluster, when there is one (the app's lifespan calls this)."""
        if self.cluster is not None:
            self.cluster.start(self)

    def held_conversations(self) -> list[str]:
        """The conversations whose sessions run in this process."""
        return list(self._sessions)

    async def active_conversations(self) -> list[str]:
        """The conversations of this mode the store records active."""
        mode = self.settings.mode
        ids: list[str] = []
        while True:
            after = ids[-1] if ids else None
            rows = await run_in_transaction(
                get_engine(),
                functools.partial(list_active_conversations, mode=mode, after_id=after, limit=1000),
            )
            ids += [row.conversation_id for row in rows]
            if len(rows) < 1000:
                return ids

    async def step_down(self, conversation_id: str) -> None:
        """Leave a session whose lease another process holds now; the conversation goes on."""
        session = self._sessions.get(conversation_id)
        if session is not None:
            await session.hand_off("another server holds the conversation now")

    def summaries(self) -> list[LiveSummary]:
        """The sessions of this process at a glance."""
        return [session.summary() for session in self._sessions.values() if not session.ended]

    async def live_summaries(self, conversation_ids: list[str]) -> dict[str, LiveSummary]:
        """These conversations at a glance, from whichever process holds each.

        Those no process describes (between holders, or not live) are left out.
        """
        found = {
            cid: self._sessions[cid].summary() for cid in conversation_ids if cid in self._sessions
        }
        rest = [cid for cid in conversation_ids if cid not in found]
        if rest and self.cluster is not None:
            try:
                found.update(await self.cluster.summary_board.read(rest))
            except RedisError as exc:
                logger.warning("console: summaries could not be read from Redis: %s", exc)
        return found

    async def run_command(self, command: SessionCommand) -> CommandReply:
        """Run a send another process routed to a session of this process."""

        def lookup(cid: str, owner: str | None) -> ConversationSession | None:
            session = self._sessions.get(cid)
            if session is not None and owner is not None:
                return self.session_for(cid, owner=owner)
            return session

        return await run_command(command, lookup, join_url=self.join_url)

    async def take_over(self, conversation_id: str) -> None:
        """Carry on a conversation whose holder died; this process has just taken its lease.

        What the old holder published but did not store is stored first (once), and the new
        session numbers its updates after everything the tabs may have seen. A conversation
        that has ended meanwhile at the API is recorded ended, and its tabs told.
        """
        cid = conversation_id
        record = await run_in_transaction(
            get_engine(), lambda s: get_conversation(s, conversation_id=cid)
        )
        if record is None or record.status != "active":
            return
        highest = await self._store_unstored(cid)
        answer = await self.conversation_at_api(cid)
        live = answer.conversation
        room_url = (live.conversation_url if live else None) or record.conversation_url
        if answer.state != "live" or live is None or not room_url:
            reason = answer.reason or "The conversation ended while it moved to another server."
            await run_in_transaction(
                get_engine(),
                lambda s: update_conversation_status(
                    s, conversation_id=cid, status="ended", shutdown_reason=reason
                ),
            )
            self.bus.publish(
                cid, StatusChanged(status="ended", reason=reason, update_id=highest + 1)
            )
            return
        await self.resume_conversation(
            cid,
            owner=record.owner_session,
            room_url=room_url,
            meeting_token=live.meeting_token,
            join_url=live.join_url,
            resume_after=highest,
        )

    async def _store_unstored(self, cid: str) -> int:
        """Store what the stream holds past the store; return the highest update id seen."""
        engine = get_engine()
        if self._writer is None:
            self._writer = EventWriter(engine)
        recorder = StoreRecorder(cid, engine=engine, writer=self._writer)
        stored = await recorder.last_update_id()
        if not isinstance(self.bus, RedisBus):
            return stored
        missing, highest = await unstored_updates(self.bus, cid, stored_upto=stored)
        for update in missing:
            if isinstance(update, EventReceived):
                recorder.record_event(
                    update.event, source="room", raw=update.raw, update_id=update.update_id
                )
            else:
                recorder.record_interaction(update.interaction, update_id=update.update_id)
        await recorder.flush()
        if missing:
            logger.info("takeover %s: stored %d updates the old holder had not", cid, len(missing))
        return max(stored, highest)

    async def live_conversations(self, *, owner: str) -> list[str]:
        """Ids of the owner's live conversations.

        In this process; in the cluster, those any process holds (the store's active ones).
        """
        s = self.settings
        local = [cid for cid in self._sessions if is_owner(self._owners.get(cid), owner)]
        if self.cluster is None or not owner:
            return local
        rows = await run_in_transaction(
            get_engine(),
            functools.partial(
                list_active_conversations,
                mode=s.mode,
                owner_session=owner,
                limit=max(s.live_limit_browser, s.live_limit_team) + len(local) + 50,
            ),
        )
        return [*local, *(r.conversation_id for r in rows if r.conversation_id not in local)]

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
            remote = (
                await self.cluster.remote(conversation_id, owner=None) if self.cluster else None
            )
            if remote is None:
                return False
            await remote.close(reason or "the conversation ended")
            return True
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
        resume_after: int = 0,
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
            resume_after: The highest update id the tabs may have seen (see `take_over`).

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
            await self._open_session(
                conversation_id, room_url, meeting_token, transport, resume_after=resume_after
            )
        except BaseException:
            self._owners.pop(conversation_id, None)
            self._join_urls.pop(conversation_id, None)
            raise
        return self._sessions[conversation_id]

    async def aclose(self) -> None:
        """End every session and flush the store (backend shutdown).

        In the cluster, sessions are handed off instead: another process carries them on.
        """
        await self.orphans.aclose()
        for session in list(self._sessions.values()):
            if self.cluster is not None:
                await session.hand_off("this server is shutting down")
            else:
                await session.close("backend shutting down")
        if self.settings.mode == "tavus":
            from cvi_app.transport.daily import wait_for_releases

            # A join that gave up waiting releases its Daily client only once Daily's own
            # attempt ends (about 19 s): let it, so no call is cut off half-released.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wait_for_releases(), timeout=25)
        if self._releases:
            await asyncio.gather(*self._releases, return_exceptions=True)
        if self.cluster is not None:
            await self.cluster.aclose()
        await self.bus.aclose()
        if self._writer is not None:
            await self._writer.aclose()
        if self._http is not None and self._http_loop is asyncio.get_running_loop():
            await self._http.aclose()
        self._http = None


_manager: SessionManager | None = None


_host_tools: list[Callable[[ToolRegistry], None]] = []


def add_host_tools(register: Callable[[ToolRegistry], None]) -> None:
    """Have the process's manager answer a host app's tools (`register(tools)` adds them).

    Call it before the manager is made (the kit's `install` does, at import).
    """
    if _manager is not None:
        raise RuntimeError("the session manager is already running: add tools before it starts")
    _host_tools.append(register)


def get_manager() -> SessionManager:
    """The process's session manager, made on first use."""
    global _manager
    if _manager is None:
        settings = get_settings()
        _manager = SessionManager(
            settings,
            tools=app_tools(settings, also=_host_tools),
            redis_url=configured_redis_url(),
        )
    return _manager


__all__: list[str] = [
    "NotAllowedError",
    "SessionManager",
    "StartOptions",
    "VisitTag",
    "add_host_tools",
    "get_manager",
]
