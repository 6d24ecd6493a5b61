"""Outbound sends: every interaction into the room goes through one `Outbox`.

Each interaction is a typed, validated model; a long echo arrives here already split to fit
Daily's 4 KB app-message limit. Sends are rate limited per session (every echo chunk counts),
and interrupts have a small budget of their own so a long, paced echo never keeps a person from
stopping the replica.
"""

from __future__ import annotations

from collections.abc import Callable

from cvi_app.live.errors import SendRateLimited, SessionEnded, SessionError
from cvi_app.live.rate_limit import TokenBucket
from cvi_app.protocol import EchoInteraction, Interaction, interrupt
from cvi_app.transport import RoomTransport

__all__ = ["Outbox"]


class Outbox:
    """Sends one conversation's interactions, within its rate limits.

    Args:
        conversation_id: every interaction sent must belong to this conversation.
        transport: the room connection.
        sent: called with each interaction once the room has it (to record and publish it).
        ended: whether the conversation is over (nothing more is sent then).
        send_rate, send_burst: sends a second on average, and at once.
        interrupt_rate, interrupt_burst: the same for interrupts.
    """

    def __init__(
        self,
        conversation_id: str,
        transport: RoomTransport,
        *,
        sent: Callable[[Interaction], None],
        ended: Callable[[], bool],
        send_rate: float = 10.0,
        send_burst: int = 20,
        interrupt_rate: float = 2.0,
        interrupt_burst: int = 5,
    ) -> None:
        self.conversation_id = conversation_id
        self._transport = transport
        self._sent = sent
        self._ended = ended
        self._limiter = TokenBucket(rate=send_rate, burst=send_burst)
        self._interrupt_limiter = TokenBucket(rate=interrupt_rate, burst=interrupt_burst)
        self._echo_generation = 0

    async def send(self, interaction: Interaction) -> None:
        """Send one interaction, within the send-rate limit.

        Raises:
            SessionEnded: The conversation is over.
            SendRateLimited: Too many sends in a short time.
            SessionError: The interaction belongs to another conversation.
        """
        self._open_or_refuse(self._limiter, "Too many messages in a short time; wait a moment.")
        await self.deliver(interaction)

    async def send_chunks(self, chunks: list[EchoInteraction]) -> bool:
        """Send an echo's chunks in order, each one a send against the rate limit.

        The first must find the limit open (else the echo is refused); the rest wait their
        turn, so a long echo is paced at the send rate instead of counting as one send.

        Returns:
            Whether every chunk was sent (False: an interrupt stopped the echo).
        """
        self._open_or_refuse(self._limiter, "Too many messages in a short time; wait a moment.")
        generation = self._echo_generation
        for index, chunk in enumerate(chunks):
            if index:
                await self._limiter.acquire()
            if self._ended():
                raise SessionEnded("This conversation has ended.")
            if generation != self._echo_generation:
                return False  # interrupted: the rest of the echo is not sent
            await self.deliver(chunk)
        return True

    async def interrupt(self) -> None:
        """Make the replica stop talking, and stop sending an echo still under way."""
        self._open_or_refuse(
            self._interrupt_limiter, "Too many interrupts in a short time; wait a moment."
        )
        self._echo_generation += 1
        await self.deliver(interrupt(self.conversation_id))

    async def deliver(self, interaction: Interaction) -> None:
        """Send one interaction without taking from the rate limit (tool results, chunks)."""
        if interaction.conversation_id != self.conversation_id:
            raise SessionError("That message belongs to another conversation.")
        await self._transport.send(interaction)
        self._sent(interaction)

    def _open_or_refuse(self, limiter: TokenBucket, refusal: str) -> None:
        if self._ended():
            raise SessionEnded("This conversation has ended.")
        if not limiter.take():
            raise SendRateLimited(refusal)
