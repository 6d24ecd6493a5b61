"""Running a scenario through the SessionManager.

Start its conversation, send each turn as `conversation.respond`, wait (bounded) for the
replica's reply and tool calls, check them, end the conversation.

A turn is over once the replica has started and stopped speaking, no tool call of it is still
waiting for its result, and nothing more has come for a moment (`settle`); or when its timeout
passes. Latency is measured on the session's own clock: from the respond being sent to the
replica starting to speak (`SpeakingChanged`), the same figure the analytics show.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime

from cvi_app.live.bus import LiveSubscription
from cvi_app.live.manager import SessionManager, StartOptions
from cvi_app.live.session import ConversationSession
from cvi_app.live.updates import (
    EventReceived,
    InteractionSent,
    LiveUpdate,
    SpeakingChanged,
    StatusChanged,
    ToolCallUpdate,
)
from cvi_app.presentation.errors import describe_error
from cvi_app.protocol import UtteranceEvent
from cvi_app.scenarios.checks import Observed, check_end, check_turn
from cvi_app.scenarios.loading import ScenarioFile
from cvi_app.scenarios.models import Scenario
from cvi_app.scenarios.results import EndResult, ScenarioResult, ToolSeen, TurnResult
from cvi_app.tavus.models import Persona, Replica

__all__ = ["NO_REPLICA_NOTE", "RunOptions", "ScenarioRunner"]

logger = logging.getLogger(__name__)

NO_REPLICA_NOTE = (
    "Tavus test mode: the conversation is created and no replica joins, so this checks that "
    "the API accepts the scenario's persona, replica, greeting and context, and nothing more. "
    "Not checked without a replica: each turn's reply, tool calls and latency, and the end "
    "reason. Run with --with-replica to check them (a real replica joins: it uses credits)."
)
_NOT_CHECKED = "not checked: no replica joins in Tavus test mode"


@dataclass(frozen=True)
class RunOptions:
    """How long a run waits, and whether Tavus's test mode stands in for a replica."""

    settle: float = 0.3
    """Seconds of quiet after the replica stops speaking before a turn counts as over."""
    greeting_wait: float = 10.0
    """Seconds to wait for the replica's greeting before the first turn (it may not greet)."""
    turn_timeout: float | None = None
    """Overrides every scenario's `turn_timeout` (a turn's own `timeout` still wins)."""
    test_mode: bool = False
    """Create the conversation with Tavus's `test_mode` (no replica): nothing is checked."""


class SetupError(Exception):
    """The scenario cannot start (an unknown persona, say); the message says why."""


class _Feed:
    """One conversation's updates in order, each once: the session's replay, then the bus."""

    def __init__(self, subscription: LiveSubscription[LiveUpdate], backlog: list[LiveUpdate]):
        self._subscription = subscription
        self._backlog = deque(backlog)
        self._replayed_upto = max((u.update_id for u in backlog), default=0)

    async def next(self, within: float) -> LiveUpdate | None:
        """The next update, or None when none comes within `within` seconds."""
        if self._backlog:
            return self._backlog.popleft()
        deadline = time.monotonic() + within
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                update = await asyncio.wait_for(self._subscription.get(), remaining)
            except TimeoutError:
                return None
            if update.update_id and update.update_id <= self._replayed_upto:
                continue
            return update
        return None


@dataclass
class _Collected:
    sent_at: datetime | None = None
    started_at: datetime | None = None
    utterances: list[str] = field(default_factory=list)
    tools: dict[str, ToolSeen] = field(default_factory=dict)

    @property
    def reply(self) -> str:
        return " ".join(self.utterances)

    def pending_tools(self) -> bool:
        return any(tool.status == "pending" for tool in self.tools.values())


class _Conversation:
    """What the runner knows of a live conversation, from its updates."""

    def __init__(self, feed: _Feed, *, settle: float) -> None:
        self.feed = feed
        self.settle = settle
        self.replica_speaking = False
        self.ended: str | None = None
        self._said: set[tuple[str | None, str]] = set()

    def _apply(self, update: LiveUpdate, got: _Collected, respond: str | None) -> bool:
        """Take one update into `got`; return whether it was the replica's doing."""
        if isinstance(update, InteractionSent):
            interaction = update.interaction
            text = getattr(interaction.properties, "text", None)
            if (
                respond is not None
                and got.sent_at is None
                and interaction.event_type == "conversation.respond"
                and text == respond
            ):
                got.sent_at = update.at
            return False
        if isinstance(update, SpeakingChanged):
            if update.replica and not self.replica_speaking and got.started_at is None:
                got.started_at = update.at
            changed = update.replica != self.replica_speaking
            self.replica_speaking = update.replica
            return changed
        if isinstance(update, EventReceived):
            event = update.event
            if isinstance(event, UtteranceEvent) and event.role in ("replica", "pal"):
                speech = event.properties.speech
                key = (event.inference_id, speech)
                if speech.strip() and key not in self._said:
                    self._said.add(key)
                    got.utterances.append(speech.strip())
                return True
            return event.role in ("replica", "pal")
        if isinstance(update, ToolCallUpdate):
            got.tools[update.tool_call_id] = ToolSeen(
                name=update.name,
                arguments=dict(update.arguments),
                status=update.status,
                output=update.output,
            ).kept()
            return True
        if isinstance(update, StatusChanged) and update.status == "ended":
            self.ended = update.reason or "ended"
            return True
        return False

    async def collect(self, within: float, *, respond: str | None = None) -> _Collected:
        """What the replica does within `within` s (less once it has finished and gone quiet)."""
        got = _Collected()
        deadline = time.monotonic() + within
        last = time.monotonic()
        while self.ended is None:
            now = time.monotonic()
            remaining = deadline - now
            if remaining <= 0:
                break
            finished = (
                got.started_at is not None and not self.replica_speaking and not got.pending_tools()
            )
            wait = min(remaining, self.settle - (now - last)) if finished else remaining
            if wait <= 0:
                break
            update = await self.feed.next(wait)
            if update is not None and self._apply(update, got, respond):
                last = time.monotonic()
        return got

    async def wait_for_end(self, within: float) -> None:
        """Take updates until the conversation ends, or `within` seconds pass."""
        deadline = time.monotonic() + within
        got = _Collected()
        while self.ended is None and (remaining := deadline - time.monotonic()) > 0:
            update = await self.feed.next(remaining)
            if update is not None:
                self._apply(update, got, None)


def _pick(wanted: str, items: list[tuple[str, str | None]], what: str) -> str:
    """The id of the item whose id or name is `wanted` (names in any case)."""
    for item_id, _ in items:
        if item_id == wanted:
            return item_id
    for item_id, name in items:
        if name and name.casefold() == wanted.strip().casefold():
            return item_id
    names = [name or item_id for item_id, name in items][:12]
    listed = ", ".join(names) if names else "none"
    raise SetupError(f"no {what} has the id or name '{wanted}' (the API has: {listed})")


class ScenarioRunner:
    """Runs scenarios, one after the other, through one session manager.

    Args:
        manager: The session manager (its settings choose the mode and the API).
        options: Waits, and Tavus's test mode.
        notes: Said with every result (where the run happens, what it cannot check).
    """

    def __init__(
        self,
        manager: SessionManager,
        *,
        options: RunOptions | None = None,
        notes: list[str] | None = None,
    ) -> None:
        self.manager = manager
        self.options = options or RunOptions()
        self.notes = list(notes or [])
        self._catalog: tuple[list[Persona], list[Replica]] | None = None

    @property
    def mode(self) -> str:
        """`sandbox` or `tavus` (test mode included)."""
        mode = self.manager.settings.mode
        return f"{mode} (test mode)" if self.options.test_mode else mode

    async def run(
        self, item: ScenarioFile | Scenario, *, source: str = "scenario"
    ) -> ScenarioResult:
        """Run one scenario; every problem ends up in the result, none is raised."""
        if isinstance(item, Scenario):
            item = ScenarioFile(item, source)
        scenario = item.scenario
        clock = time.monotonic()
        result = ScenarioResult(
            name=item.title,
            source=item.source,
            mode=self.mode,
            persona=scenario.persona,
            notes=list(self.notes),
        )
        try:
            options = await self._start_options(scenario, item.title, result)
            if self.options.test_mode:
                await self._test_mode(scenario, options, result)
            else:
                await self._converse(scenario, options, result)
        except SetupError as exc:
            self._not_run(scenario, result, str(exc))
        except Exception as exc:
            logger.exception("scenario %s failed to run", item.source)
            self._not_run(scenario, result, describe_error(exc))
        result.duration_s = round(time.monotonic() - clock, 3)
        return result

    # ---- setting up ---------------------------------------------------------------------

    async def _catalog_now(self) -> tuple[list[Persona], list[Replica]]:
        if self._catalog is None:
            self._catalog = await self.manager.catalog()
        return self._catalog

    async def _start_options(
        self, scenario: Scenario, title: str, result: ScenarioResult
    ) -> StartOptions:
        personas, replicas = await self._catalog_now()
        persona_id = _pick(
            scenario.persona, [(p.persona_id, p.persona_name) for p in personas], "persona"
        )
        name = next((p.persona_name for p in personas if p.persona_id == persona_id), None)
        result.persona = f"{name} ({persona_id})" if name else persona_id
        replica_id = None
        if scenario.replica is not None:
            replica_id = _pick(
                scenario.replica, [(r.replica_id, r.replica_name) for r in replicas], "replica"
            )
        extra = (
            {"max_call_duration": scenario.max_call_duration} if scenario.max_call_duration else {}
        )
        return StartOptions(
            persona_id=persona_id,
            replica_id=replica_id,
            name=f"Scenario: {title}"[:200],
            context=scenario.context,
            greeting=scenario.greeting,
            **extra,
        )

    def _not_run(self, scenario: Scenario, result: ScenarioResult, why: str) -> None:
        result.error = why
        done = len(result.turns)
        for index, turn in enumerate(scenario.turns[done:], start=done + 1):
            result.turns.append(
                TurnResult(
                    index=index,
                    said=turn.say,
                    status="failed",
                    failures=["not run: the scenario could not run"],
                )
            )

    # ---- Tavus's test mode: no replica --------------------------------------------------

    async def _test_mode(
        self, scenario: Scenario, options: StartOptions, result: ScenarioResult
    ) -> None:
        async with self.manager.client() as client:
            conversation = await client.create_conversation(
                persona_id=options.persona_id,
                replica_id=options.replica_id,
                conversation_name=options.name,
                conversational_context=options.context or None,
                custom_greeting=options.greeting or None,
                test_mode=True,
                properties={"max_call_duration": options.max_call_duration},
            )
            result.conversation_id = conversation.conversation_id
            with contextlib.suppress(Exception):
                await client.end_conversation(conversation.conversation_id)
        result.notes.append(NO_REPLICA_NOTE)
        result.turns = [
            TurnResult(index=i, said=turn.say, status="skipped", note=_NOT_CHECKED)
            for i, turn in enumerate(scenario.turns, start=1)
        ]
        result.end = EndResult(expected=scenario.end.by, status="skipped", note=_NOT_CHECKED)

    # ---- a conversation -----------------------------------------------------------------

    async def _converse(
        self, scenario: Scenario, options: StartOptions, result: ScenarioResult
    ) -> None:
        owner = f"scenario-runner-{uuid.uuid4().hex}"
        conversation = await self.manager.start_conversation(owner=owner, options=options)
        cid = conversation.conversation_id
        result.conversation_id = cid
        session = self.manager.session_for(cid, owner=owner)
        # Subscribe and take the replay in one step: together they hold every update once.
        subscription = self.manager.bus.subscribe(cid)
        live = _Conversation(
            _Feed(subscription, session.replay_snapshot()), settle=self.options.settle
        )
        try:
            greeting = await live.collect(self.options.greeting_wait)
            result.greeting = greeting.reply
            for index, turn in enumerate(scenario.turns, start=1):
                timeout = turn.timeout or self.options.turn_timeout or scenario.turn_timeout
                result.turns.append(
                    await self._turn(live, session, index, turn.say, timeout, scenario)
                )
            result.end = await self._end(live, session, scenario, cid, owner)
        finally:
            subscription.close()
            if not session.ended:
                with contextlib.suppress(Exception):
                    await self.manager.end_conversation(cid, owner=owner)

    async def _turn(
        self,
        live: _Conversation,
        session: ConversationSession,
        index: int,
        text: str,
        wait: float,
        scenario: Scenario,
    ) -> TurnResult:
        expect = scenario.turns[index - 1].expect
        clock = time.monotonic()
        if live.ended is not None:
            return TurnResult(
                index=index,
                said=text,
                status="failed",
                failures=[f"not sent: the conversation had ended ({live.ended})"],
            )
        before = datetime.now(UTC)
        try:
            await session.respond(text)
        except Exception as exc:
            return TurnResult(
                index=index,
                said=text,
                status="failed",
                failures=[f"not sent: {describe_error(exc)}"],
            )
        got = await live.collect(wait, respond=text)
        sent = got.sent_at or before
        latency = (
            round((got.started_at - sent).total_seconds(), 3)
            if got.started_at is not None
            else None
        )
        seen = Observed(
            timeout=wait,
            reply=got.reply,
            tools=list(got.tools.values()),
            latency_s=latency,
            answered=got.started_at is not None or bool(got.utterances),
            ended=live.ended,
        )
        failures = check_turn(expect, seen)
        return TurnResult(
            index=index,
            said=text,
            status="failed" if failures else "passed",
            failures=failures,
            reply=got.reply[:1000],
            tools=seen.tools,
            latency_s=latency,
            duration_s=round(time.monotonic() - clock, 3),
        )

    async def _end(
        self,
        live: _Conversation,
        session: ConversationSession,
        scenario: Scenario,
        cid: str,
        owner: str,
    ) -> EndResult:
        expect = scenario.end
        ended_before = live.ended is not None
        hung_up = False
        if expect.by == "timeout" and not ended_before:
            await live.wait_for_end(expect.within)
        ended_by_itself = live.ended is not None
        if not ended_by_itself:
            try:
                await self.manager.end_conversation(cid, owner=owner)
                hung_up = True
            except Exception as exc:
                return EndResult(
                    expected=expect.by,
                    status="failed",
                    failures=[f"hanging up failed: {describe_error(exc)}"],
                )
        reason = live.ended if ended_by_itself else session.end_reason
        failures = check_end(
            expect, reason=reason, ended_by_itself=ended_by_itself, hung_up=hung_up
        )
        return EndResult(
            expected=expect.by,
            status="failed" if failures else "passed",
            reason=reason,
            failures=failures,
        )
