"""The room's controls: what the person sends to the live conversation.

`RoomControlsState` is a substate of `RoomState`, so it reads the conversation the event names,
its status and this tab's owner from there; it holds only what the controls use (the message,
the context, the composer's JSON, the sensitivities, the tool answer, what is being sent).

Every control checks, when it is sent, that this tab's owner may drive the conversation named
in the event's URL (`_who()`, then the session manager's owner check). Each one is a
background event: the state lock is held only for short reads and writes, the send itself
waits without it, and the control shows as pending meanwhile.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Literal

import reflex as rx

from cvi_app.accounts.audit import record_action
from cvi_app.accounts.sessions import resolve_caller
from cvi_app.live.cluster.remote import RemoteSession
from cvi_app.live.errors import SessionError
from cvi_app.live.manager import get_manager
from cvi_app.live.session import ConversationSession
from cvi_app.presentation.errors import describe_error
from cvi_app.presentation.templates import interaction_template
from cvi_app.presentation.text import STEER_WORDS
from cvi_app.protocol import validate_interaction
from cvi_app.state.room_state import RoomState
from cvi_app.uploads.wav import (
    MAX_WAV_BYTES,
    AudioError,
    read_capped,
    too_large_message,
    wav_to_pcm16_mono,
)

logger = logging.getLogger(__name__)

MAX_RAW_MESSAGE_CHARS = 8000
"""The most the advanced composer holds (a message must fit 4 KB as JSON anyway)."""

__all__ = ["MAX_RAW_MESSAGE_CHARS", "RoomControlsState", "selected_size"]


def selected_size(upload_id: str) -> rx.Var[int]:
    """The total size in bytes of the files chosen in an upload (what the browser declares)."""
    from reflex_components_core.core.upload import get_upload_files_context_var_data

    key = json.dumps(upload_id)
    return rx.Var(
        _js_expr=f"(filesById[{key}] ? filesById[{key}].reduce((n, f) => n + f.size, 0) : 0)",
        _var_type=int,
        _var_data=get_upload_files_context_var_data(),
    )


class RoomControlsState(RoomState):
    """The room's controls, and which of them are being sent (`pending`).

    Message (Respond, Echo), interrupt, context, sensitivities, audio echo, tool answers, raw
    interactions and ending the call.
    """

    message: str = ""
    raw_message: str = ""
    context: str = ""
    pause_sensitivity: str = "auto"
    interrupt_sensitivity: str = "auto"
    tool_answer: str = ""
    pending: list[str] = []

    @rx.var
    def can_send_message(self) -> bool:
        """Whether Respond and Echo can be used: live, and something is written."""
        return self.status == "live" and bool(self.message.strip())

    @rx.event
    def set_message(self, value: str) -> None:
        """Keep the message box's text."""
        self.message = value

    @rx.event
    def set_context(self, value: str) -> None:
        """Keep the context box's text."""
        self.context = value

    @rx.event
    def set_raw_message(self, value: str) -> None:
        """Keep the advanced composer's JSON."""
        self.raw_message = value[:MAX_RAW_MESSAGE_CHARS]

    @rx.event
    def use_template(self, event_type: str) -> None:
        """Fill the advanced composer with an example of one documented interaction."""
        template = interaction_template(event_type, self.conversation_id)
        if template:
            self.raw_message = template

    @rx.event
    def set_tool_answer(self, value: str) -> None:
        """Keep the tool answer box's text."""
        self.tool_answer = value

    async def _control(
        self,
        name: str,
        send: Send,
        *,
        take: Callable[[RoomControlsState], Any] = lambda state: None,
        done: Callable[[RoomControlsState, Any], None] = lambda state, taken: None,
        busy: str | None = None,
        ok: str | None = None,
    ):
        """Run one control outside the state lock, at most one of each kind at a time.

        `take` reads what the control sends from the state (under the lock); `send(cid, owner,
        taken)` is awaited without the lock and checks this tab's owner before it acts; `done`
        updates the state after a successful send, and `ok` is then shown as a toast. Every
        refusal reaches the person as a toast (`busy` as well, when the control is still being
        sent).
        """
        async with self:
            if name in self.pending:  # a double click: the first one is being sent
                return rx.toast.error(busy) if busy else None
            cid, credentials = await self._who()
            taken = take(self)
            self.pending = [*self.pending, name]
        sent = False
        try:
            caller = await resolve_caller(credentials)
            await send(cid, caller.owner_for("drive"), taken)
            sent = True
            await record_action(caller, name, conversation_id=cid, detail=_audit_detail(taken))
            if caller.signed_in is not None and name in STEER_WORDS:
                await get_manager().note_operator(
                    cid,
                    owner=caller.owner_for("drive"),
                    actor=caller.actor,
                    action=STEER_WORDS[name],
                )
        except Exception as exc:
            logger.info("room %s: %s refused: %s", cid, name, exc)
            return rx.toast.error(describe_error(exc))
        finally:
            async with self:
                self.pending = [p for p in self.pending if p != name]
                if sent:
                    done(self, taken)
        return rx.toast.success(ok) if ok else None

    @rx.event(background=True)
    async def respond(self, _form: dict[str, Any] | None = None):
        """Send the message as the user's turn (a button, or Enter in the message box)."""
        return await self._control(
            "respond",
            _live(lambda session, text: session.respond(text)),
            take=_message,
            done=_clear_message,
        )

    @rx.event(background=True)
    async def echo(self):
        """Make the replica say the message verbatim."""
        return await self._control(
            "echo",
            _live(lambda session, text: session.echo(text)),
            take=_message,
            done=_clear_message,
        )

    @rx.event(background=True)
    async def interrupt(self):
        """Make the replica stop talking."""
        return await self._control("interrupt", _live(lambda session, _: session.interrupt()))

    @rx.event(background=True)
    async def overwrite_context(self):
        """Replace the replica's context with the context box."""
        return await self._control(
            "overwrite_context",
            _live(lambda session, text: session.overwrite_context(text)),
            take=_context,
            ok="The replica's context was replaced.",
        )

    @rx.event(background=True)
    async def append_context(self):
        """Add the context box to the replica's context."""
        return await self._control(
            "append_context",
            _live(lambda session, text: session.append_context(text)),
            take=_context,
            ok="The context was added to the replica's context.",
        )

    @rx.event(background=True)
    async def set_pause_sensitivity(self, value: str):
        """Change how long a pause ends the user's turn."""
        return await self._set_sensitivity("pause", value)

    @rx.event(background=True)
    async def set_interrupt_sensitivity(self, value: str):
        """Change how easily the user interrupts the replica."""
        return await self._set_sensitivity("interrupt", value)

    async def _set_sensitivity(self, kind: Literal["pause", "interrupt"], value: str):
        def send(session: Controls, _: Any) -> Awaitable[None]:
            return session.set_sensitivity(**{kind: value})  # type: ignore[arg-type]

        return await self._control(
            f"{kind}_sensitivity",
            _live(send),
            done=lambda state, taken: setattr(state, f"{kind}_sensitivity", value),
            ok=f"{kind.title()} sensitivity is now {value}.",
        )

    @rx.event(background=True)
    async def upload_echo_audio(self, chunks: rx.UploadChunkIterator, declared_size: int = 0):
        """Echo an uploaded WAV file (converted to 16-bit mono PCM).

        Nothing is read before the owner and the size the browser declared are checked; the
        upload is then read up to the size limit, and decoded in a worker thread.
        """

        async def echo_upload(session: Controls, _: Any) -> None:
            if not isinstance(declared_size, int) or declared_size > MAX_WAV_BYTES:
                raise AudioError(too_large_message())
            data = await read_capped(chunks, limit=MAX_WAV_BYTES)
            if not data:
                raise AudioError("Choose a WAV file first.")
            pcm, rate = await asyncio.to_thread(wav_to_pcm16_mono, data)
            await session.echo_audio(pcm, sample_rate=rate)

        return await self._control(
            "audio",
            _live(echo_upload),
            busy="An audio echo is already being sent.",
            ok="The audio echo was sent.",
        )

    @rx.event(background=True)
    async def answer_tool_call(self, tool_call_id: str):
        """Send the tool answer box as the result of a waiting tool call."""
        async with self:
            answer = self.tool_answer
        if not answer.strip():
            return rx.toast.error("Write the tool's result first.")
        return await self._control(
            "tool_result",
            _live(lambda session, _: session.send_tool_result(str(tool_call_id), answer)),
            done=lambda state, taken: setattr(state, "tool_answer", ""),
            ok="The tool's result was sent.",
        )

    @rx.event(background=True)
    async def send_raw(self):
        """Send the advanced composer's JSON, once the protocol's models accept it."""
        return await self._control(
            "raw",
            _live(_send_raw),
            take=lambda state: state.raw_message,
            ok="The interaction was sent.",
        )

    @rx.event(background=True)
    async def end(self):
        """End the conversation for everyone."""
        return await self._control("end", _end)


Controls = ConversationSession | RemoteSession
"""A live session: in this process, or driven in the process that holds it."""

Send = Callable[[str, str, Any], Awaitable[None]]
"""A control's send: given the conversation, this tab's owner and what it took from the state."""


def _live(send: Callable[[Controls, Any], Awaitable[None]]) -> Send:
    """A control sent on the conversation's live session (in any process), owner checked."""

    async def on_session(cid: str, owner: str, taken: Any) -> None:
        await send(await get_manager().controls_for(cid, owner=owner), taken)

    return on_session


async def _end(cid: str, owner: str, _: Any) -> None:
    await get_manager().end_conversation(cid, owner=owner)


async def _send_raw(session: Controls, raw: str) -> None:
    if not raw.strip():
        raise SessionError("Write the interaction's JSON first, or pick a template.")
    await session.send(validate_interaction(raw))


def _audit_detail(taken: Any) -> str:
    """What a control sent, for the audit log (text as written; other values by kind)."""
    if isinstance(taken, str):
        return taken
    return "" if taken is None else type(taken).__name__


def _message(state: RoomControlsState) -> str:
    return state.message


def _context(state: RoomControlsState) -> str:
    return state.context


def _clear_message(state: RoomControlsState, sent: str) -> None:
    if state.message == sent:  # not what the person has typed since
        state.message = ""
