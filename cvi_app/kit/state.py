"""`ConversationState`: a conversation on a host app's page, driven from Python.

Subclass it, set the settings as class attributes, and define the handlers you need; put the
component (`kit.conversation(YourState)`) on a page::

    class Support(kit.ConversationState, rx.State):
        # The defaults; the component's props, signed into the page, override them.
        settings = kit.Settings(persona_id="p1234567890", greeting="Hi! How can I help?")

        async def on_tool_call(self, name: str, arguments: dict) -> Any:
            if name == "order_status":
                return {"status": "shipped"}
            return None  # not answered here

        async def on_utterance(self, role: str, text: str) -> None:
            self.last_words = text  # a var of your own

The handlers run on the server, under the state's lock (assign vars as in any event handler);
they are not event handlers, so a browser cannot call them. The conversation belongs to the
browser that started it: every method checks that on the server.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from typing import Any, Literal

import reflex as rx

from cvi_app.kit.presets import Preset, PresetRefused, read_preset
from cvi_app.live.errors import SessionError
from cvi_app.live.history import restore
from cvi_app.live.manager import StartOptions, get_manager
from cvi_app.live.updates import (
    EventReceived,
    LiveUpdate,
    SpeakingChanged,
    StatusChanged,
    ToolCallUpdate,
)
from cvi_app.presentation.errors import describe_error
from cvi_app.presentation.text import end_reason_sentence, short
from cvi_app.protocol import UtteranceEvent
from cvi_app.state.app_state import AppState

__all__ = ["HOOKS", "MAX_LINES", "MAX_TEXT", "ConversationState"]

logger = logging.getLogger(__name__)

HOOKS = ("on_utterance", "on_speaking_change", "on_tool_call", "on_end")
"""The handlers a subclass may define (each optional)."""
MAX_LINES = 50
"""Transcript lines kept in the state (the oldest go first): the page never grows unbounded."""
MAX_TEXT = 2_000
"""The most characters one method sends (respond, echo, context)."""
MAX_TOOL_OUTPUT = 20_000
DEFAULT_MAX_CALL_S = 600
DEFAULT_LEFT_S = 30

_HOOKS: dict[type, dict[str, Callable[..., Any]]] = {}


class ConversationState(rx.State, mixin=True):
    """One browser's conversation on a host page (see the module's docstring)."""

    # -- what the page shows --------------------------------------------------------------------
    status: str = "idle"
    """idle, starting, joining, live or ended."""
    join_url: str = ""
    """What the call component joins ("" while there is nothing to join)."""
    lines: list[dict[str, str]] = []
    """The latest transcript lines, `{"role", "text"}`, at most `MAX_LINES`."""
    replica_speaking: bool = False
    error: str = ""
    """The last refusal or failure, as a sentence for the person."""
    end_reason: str = ""

    _conversation_id: str = ""
    _follow_id: int = 0

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # Handlers are taken out of Reflex's reach before it makes event handlers of them: a
        # browser cannot call them.
        hooks = dict(next((_HOOKS[b] for b in cls.__mro__[1:] if b in _HOOKS), {}))
        for name in HOOKS:
            if name in cls.__dict__:
                hooks[name] = cls.__dict__[name]
                delattr(cls, name)
        _HOOKS[cls] = hooks
        super().__init_subclass__(**kwargs)

    @rx.var
    def live(self) -> bool:
        """Whether the conversation is under way (starting to live)."""
        return self.status in ("starting", "joining", "live")

    # -- the methods a page calls ---------------------------------------------------------------

    @rx.event(background=True)
    async def start(self, preset: str = ""):
        """Start this browser's conversation (with the component's signed settings, if any)."""
        async with self:
            if self.status in ("starting", "joining", "live"):
                return None
            self.status, self.error, self.end_reason, self.lines = "starting", "", "", []
            owner = (await self.get_state(AppState)).ensure_owner()
            address = self.router.session.client_ip or None
        try:
            options = self._options(read_preset(preset))
            manager = get_manager()
            conversation = await manager.start_conversation(
                owner=owner, options=options, address=address
            )
        except (PresetRefused, SessionError, ValueError) as exc:
            return await self._failed(str(exc))
        except Exception as exc:
            logger.warning("kit: starting a conversation failed: %s", exc)
            return await self._failed(f"Could not start the conversation: {describe_error(exc)}")
        cid = conversation.conversation_id
        async with self:
            self._conversation_id = cid
            self.join_url = manager.join_url(cid)
            self.status = "live"
            self._follow_id += 1
            follow_id = self._follow_id
        # (`self` is a proxy in a background event: its `__class__` is the host's state.)
        return self.__class__.follow(follow_id)

    @rx.event(background=True)
    async def respond(self, text: str):
        """Have the replica answer `text` as if the person said it."""
        await self._drive("respond", str(text)[:MAX_TEXT])

    @rx.event(background=True)
    async def echo(self, text: str):
        """Have the replica say `text` word for word."""
        await self._drive("echo", str(text)[:MAX_TEXT])

    @rx.event(background=True)
    async def interrupt(self):
        """Stop the replica mid-sentence."""
        await self._drive("interrupt")

    @rx.event(background=True)
    async def append_context(self, text: str):
        """Add to what the replica knows."""
        await self._drive("append_context", str(text)[:MAX_TEXT])

    @rx.event(background=True)
    async def overwrite_context(self, text: str):
        """Replace what the replica knows."""
        await self._drive("overwrite_context", str(text)[:MAX_TEXT])

    @rx.event(background=True)
    async def end(self):
        """End the conversation (for everyone in its call)."""
        async with self:
            cid = self._conversation_id
            owner = (await self.get_state(AppState)).ensure_owner()
            if not cid or self.status == "ended":
                return None
        try:
            await get_manager().end_conversation(cid, owner=owner)
        except Exception as exc:
            logger.info("kit: ending %s: %s", cid, exc)
        return None

    @rx.event
    def call_left(self, reason: str) -> None:
        """The person's call ended (left, or the room closed): nothing to join any more."""
        if reason and self.status == "ended":
            self.join_url = ""

    # -- following the conversation -------------------------------------------------------------

    @rx.event(background=True)
    async def follow(self, follow_id: int):
        """Stream the conversation's updates into the state and the handlers until it ends."""
        async with self:
            cid = self._conversation_id
            owner = (await self.get_state(AppState)).ensure_owner()
            if follow_id != self._follow_id or not cid:
                return None
        manager = get_manager()
        try:
            await manager.check_owner(cid, owner=owner)
        except Exception as exc:
            return await self._failed(str(exc))
        session = await manager.find_session(cid, owner=owner)
        restored = await restore(manager.bus, session, cid)
        try:
            for update in restored.updates:
                if await self._apply(update, follow_id) == "stop":
                    return None
            async for batch in restored.subscription.batches():
                for update in batch:
                    if restored.is_new(update) and await self._apply(update, follow_id) == "stop":
                        return None
        finally:
            restored.subscription.close()
        return None

    async def _apply(self, update: LiveUpdate, follow_id: int) -> str:
        """Show one update and run the handler it calls for; "stop" once it is over."""
        async with self:
            if follow_id != self._follow_id:
                return "stop"
            if isinstance(update, StatusChanged):
                self.status = update.status
                if update.status == "ended":
                    self.end_reason = end_reason_sentence(update.reason)
                    self.replica_speaking = False
                    await self._call("on_end", update.reason or "")
                    return "stop"
            elif isinstance(update, SpeakingChanged):
                if update.replica != self.replica_speaking:
                    self.replica_speaking = update.replica
                    await self._call("on_speaking_change", update.replica)
            elif isinstance(update, EventReceived) and isinstance(update.event, UtteranceEvent):
                role, text = update.event.properties.role, update.event.properties.speech
                self.lines = [*self.lines, {"role": role, "text": short(text, MAX_TEXT)}][
                    -MAX_LINES:
                ]
                await self._call("on_utterance", role, text)
        if isinstance(update, ToolCallUpdate) and update.status == "unhandled":
            await self._answer(update)
        return ""

    async def _answer(self, call: ToolCallUpdate) -> None:
        """Answer a tool call no registered tool answered, with the `on_tool_call` handler."""
        async with self:
            try:
                output = await self._call("on_tool_call", call.name, dict(call.arguments))
                status: Literal["success", "error"] = "success"
            except Exception as exc:
                logger.info("kit: tool %s failed: %s", call.name, exc)
                output, status = f"The tool failed: {exc}", "error"
            owner = (await self.get_state(AppState)).ensure_owner()
            cid = self._conversation_id
        if output is None:
            return  # not this page's tool: the call stays open for someone else
        text = output if isinstance(output, str) else json.dumps(output, default=str)
        try:
            session = await get_manager().controls_for(cid, owner=owner)
            await session.send_tool_result(call.tool_call_id, text[:MAX_TOOL_OUTPUT], status=status)
        except Exception as exc:
            logger.info("kit: answering tool %s: %s", call.name, exc)

    async def _call(self, hook: str, *args: Any) -> Any:
        """Run the subclass's handler `hook`, if it has one."""
        fn = _HOOKS.get(self.__class__, {}).get(hook)
        if fn is None:
            return None
        result = fn(self, *args)
        return await result if asyncio.iscoroutine(result) else result

    # -- helpers --------------------------------------------------------------------------------

    def _options(self, preset: Preset) -> StartOptions:
        """The start options: the page's signed settings over the subclass's."""
        own = getattr(self.__class__, "settings", None)
        base = own.model_dump(exclude_defaults=True) if isinstance(own, Preset) else {}
        settings = {**base, **preset.model_dump(exclude_defaults=True)}
        return StartOptions(
            persona_id=settings.get("persona_id") or None,
            replica_id=settings.get("replica_id") or None,
            name=settings.get("name") or "",
            greeting=settings.get("greeting") or "",
            context=settings.get("context") or "",
            language=settings.get("language") or "",
            max_call_duration=settings.get("max_call_duration") or DEFAULT_MAX_CALL_S,
            participant_left_timeout=settings.get("participant_left_timeout", DEFAULT_LEFT_S),
        )

    async def _drive(self, action: str, *args: str) -> None:
        """Send one interaction to this browser's conversation, or say why not."""
        async with self:
            cid = self._conversation_id
            owner = (await self.get_state(AppState)).ensure_owner()
        if not cid:
            async with self:
                self.error = "Start the conversation first."
            return
        try:
            session = await get_manager().controls_for(cid, owner=owner)
            await getattr(session, action)(*args)
        except Exception as exc:
            async with self:
                self.error = str(exc) if isinstance(exc, SessionError) else describe_error(exc)
            return
        async with self:
            self.error = ""

    async def _failed(self, sentence: str) -> None:
        async with self:
            self.status, self.join_url, self.error = "idle", "", sentence
