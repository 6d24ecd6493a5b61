"""`RemoteSession`: a conversation whose session another process holds, driven from here.

It has the send methods of `ConversationSession` (what the room's controls call), each one a
`SessionCommand` to the holder; the holder's answer comes back as the same errors a local send
raises, so the room shows the same sentences whichever process runs the session.
"""

from __future__ import annotations

import base64
import logging
from typing import Any, Literal

from redis.exceptions import RedisError

from cvi_app.live.cluster.commands import CommandChannel, CommandReply, CommandUnanswered
from cvi_app.live.errors import NotAllowedError, SessionError
from cvi_app.live.update_codec import decode_update
from cvi_app.live.updates import LiveUpdate
from cvi_app.protocol import Interaction, SensitivityLevel

__all__ = ["HOLDER_UNAVAILABLE", "RemoteSession"]

logger = logging.getLogger(__name__)

HOLDER_UNAVAILABLE = (
    "The server running this conversation is not answering; "
    "another one takes it over within a few seconds. Try again then."
)


class RemoteSession:
    """The live session of a conversation held by another process (`holder`).

    Attributes:
        conversation_id: The conversation.
        holder: The node id of the process that holds its session.
        status, end_reason, join_url: As the holder described them (`describe`).
    """

    def __init__(
        self, channel: CommandChannel, conversation_id: str, holder: str, *, owner: str | None
    ) -> None:
        self._channel = channel
        self.conversation_id = conversation_id
        self.holder = holder
        self._owner = owner
        self.status = "live"
        self.end_reason: str | None = None
        self.join_url = ""
        self._now: list[LiveUpdate] = []

    async def describe(self) -> RemoteSession:
        """Ask the holder for the session's status and call URL (needs this browser's owner)."""
        reply = await self._ask("describe")
        self.status = str(reply.data.get("status", "live"))
        reason = reply.data.get("end_reason")
        self.end_reason = str(reason) if reason else None
        self.join_url = str(reply.data.get("join_url", ""))
        self._now = []
        for raw in reply.data.get("now", []):
            try:
                self._now.append(decode_update(str(raw).encode()))
            except ValueError as exc:
                logger.warning("conversation %s: unreadable state: %s", self.conversation_id, exc)
        return self

    def now(self) -> list[LiveUpdate]:
        """Who was speaking and who was in the call when the holder described the session."""
        return list(self._now)

    async def respond(self, text: str) -> None:
        """Speak `text` as the user (see `ConversationSession.respond`)."""
        await self._ask("respond", text=text)

    async def echo(self, text: str) -> None:
        """Make the replica say `text` verbatim."""
        await self._ask("echo", text=text)

    async def echo_audio(self, pcm: bytes, *, sample_rate: int = 24000) -> None:
        """Make the replica speak raw 16-bit mono PCM audio."""
        await self._ask(
            "echo_audio", audio_b64=base64.b64encode(pcm).decode(), sample_rate=sample_rate
        )

    async def interrupt(self) -> None:
        """Make the replica stop talking."""
        await self._ask("interrupt")

    async def overwrite_context(self, context: str) -> None:
        """Replace the replica's conversational context."""
        await self._ask("overwrite_context", text=context)

    async def append_context(self, context: str) -> None:
        """Add to the replica's conversational context."""
        await self._ask("append_context", text=context)

    async def set_sensitivity(
        self, *, pause: SensitivityLevel | None = None, interrupt: SensitivityLevel | None = None
    ) -> None:
        """Change turn-taking sensitivity."""
        await self._ask("sensitivity", pause=pause, interrupt=interrupt)

    async def send_tool_result(
        self, tool_call_id: str, output: str, *, status: Literal["success", "error"] = "success"
    ) -> None:
        """Answer a tool call that no registered tool handled."""
        await self._ask("tool_result", tool_call_id=tool_call_id, text=output, status=status)

    async def send(self, interaction: Interaction) -> None:
        """Send one validated interaction (re-validated by the holder)."""
        await self._ask("send", interaction=interaction.to_message())

    async def note_operator(self, actor: str, action: str) -> None:
        """Tell the conversation's tabs what an operator did."""
        await self._ask("note", actor=actor, text=action)

    async def close(self, reason: str) -> None:
        """Have the holder close the session (the conversation has ended at the API)."""
        await self._ask("close", text=reason)

    async def _ask(self, action: str, **fields: Any) -> CommandReply:
        try:
            reply = await self._channel.ask(
                self.holder,
                {
                    "conversation_id": self.conversation_id,
                    "owner": self._owner,
                    "action": action,
                    **fields,
                },
            )
        except (CommandUnanswered, RedisError) as exc:
            raise SessionError(HOLDER_UNAVAILABLE) from exc
        if reply.ok:
            return reply
        if reply.refusal == "not_allowed":
            raise NotAllowedError()
        if reply.refusal == "not_here":
            raise SessionError(HOLDER_UNAVAILABLE)
        raise SessionError(reply.message or "The conversation refused this.")
