"""Run a routed `SessionCommand` on the session this process holds, and say how it went."""

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import Callable

from cvi_app.live.cluster.commands import CommandReply, SessionCommand
from cvi_app.live.errors import NotAllowedError, SessionError
from cvi_app.live.session import ConversationSession
from cvi_app.live.update_codec import encode_update
from cvi_app.presentation.errors import describe_error
from cvi_app.protocol import SENSITIVITY_LEVELS, validate_interaction

__all__ = ["run_command"]

logger = logging.getLogger(__name__)

SessionLookup = Callable[[str, str | None], ConversationSession | None]
"""The local session of a conversation for an owner (None: not held here); raises
`NotAllowedError` when that owner may not use it."""


async def run_command(
    command: SessionCommand, session_for: SessionLookup, *, join_url: Callable[[str], str]
) -> CommandReply:
    """Check who asks, run the command on the local session, and answer in plain words.

    Only the app's own `close` (an end the API confirmed) comes without an owner.
    """
    if command.owner is None and command.action != "close":
        return CommandReply(ok=False, refusal="not_allowed")
    try:
        session = session_for(command.conversation_id, command.owner)
    except NotAllowedError:
        return CommandReply(ok=False, refusal="not_allowed")
    if session is None:
        return CommandReply(ok=False, refusal="not_here")
    try:
        if command.action == "describe":
            return CommandReply(
                ok=True,
                data={
                    "status": session.status,
                    "end_reason": session.end_reason,
                    "join_url": join_url(command.conversation_id),
                    "now": [encode_update(update).decode() for update in session.now()],
                },
            )
        await _run(session, command)
    except Exception as exc:
        logger.info(
            "conversation %s: routed %s refused: %s", command.conversation_id, command.action, exc
        )
        return CommandReply(ok=False, refusal="refused", message=describe_error(exc))
    return CommandReply(ok=True)


async def _run(session: ConversationSession, command: SessionCommand) -> None:
    action, text = command.action, command.text
    if action == "respond":
        await session.respond(text)
    elif action == "echo":
        await session.echo(text)
    elif action == "echo_audio":
        try:
            pcm = base64.b64decode(command.audio_b64, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise SessionError("The audio could not be read; choose the file again.") from exc
        await session.echo_audio(pcm, sample_rate=command.sample_rate)
    elif action == "interrupt":
        await session.interrupt()
    elif action == "overwrite_context":
        await session.overwrite_context(text)
    elif action == "append_context":
        await session.append_context(text)
    elif action == "sensitivity":
        for level in (command.pause, command.interrupt):
            if level is not None and level not in SENSITIVITY_LEVELS:
                raise SessionError("Choose one of the listed sensitivity levels.")
        await session.set_sensitivity(pause=command.pause, interrupt=command.interrupt)  # type: ignore[arg-type]
    elif action == "tool_result":
        await session.send_tool_result(command.tool_call_id, text, status=command.status)
    elif action == "send":
        await session.send(validate_interaction(command.interaction or {}))
    elif action == "note":
        await session.note_operator(command.actor, text)
    elif action == "close":
        await session.close(text or "the conversation ended")
