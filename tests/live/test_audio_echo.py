"""Audio echoes on a real session over the sandbox: capped by duration, every chunk a send."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from cvi_app.live.session import MAX_ECHO_AUDIO_SECONDS, SendRateLimited, SessionError
from cvi_app.protocol import EchoInteraction, split_echo_audio


def audio_chunks(live: Any) -> list[EchoInteraction]:
    return [
        s.interaction
        for s in live.seen.sent()
        if isinstance(s.interaction, EchoInteraction) and s.interaction.properties.audio
    ]


async def test_audio_longer_than_the_cap_is_refused_and_nothing_is_sent(open_session: Any) -> None:
    live = await open_session()
    rate = 8000
    too_long = b"\0\0" * int(rate * (MAX_ECHO_AUDIO_SECONDS + 1))

    with pytest.raises(SessionError, match="at most 60 seconds"):
        await live.session.echo_audio(too_long, sample_rate=rate)

    assert audio_chunks(live) == []


async def test_every_audio_chunk_counts_against_the_send_rate(open_session: Any) -> None:
    live = await open_session(session_options={"send_rate": 4.0, "send_burst": 3})
    rate = 16000
    pcm = b"\x01\x00" * (rate // 2)  # half a second: several chunks
    expected = len(split_echo_audio(live.cid, pcm, sample_rate=rate))
    assert expected > 3, "more chunks than the burst allows at once"

    await live.session.echo_audio(pcm, sample_rate=rate)

    # Every chunk was sent, paced by the limit, and the limit is now used up: the next send
    # is refused, as it would be after as many separate sends.
    chunks = audio_chunks(live)
    assert len(chunks) == expected
    assert [c.properties.done for c in chunks] == [False] * (expected - 1) + [True]
    with pytest.raises(SendRateLimited):
        await live.session.append_context("one more send")


async def test_an_interrupt_gets_through_a_long_echo_and_stops_it(open_session: Any) -> None:
    live = await open_session(session_options={"send_rate": 4.0, "send_burst": 1})
    pcm = b"\x01\x00" * 16000
    total = len(split_echo_audio(live.cid, pcm, sample_rate=16000))
    echo = asyncio.ensure_future(live.session.echo_audio(pcm, sample_rate=16000))
    await asyncio.sleep(0.3)

    await live.session.interrupt()  # not refused, though the echo uses up the send rate
    await echo
    sent = len(audio_chunks(live))
    await asyncio.sleep(0.6)
    assert 0 < sent < total
    assert len(audio_chunks(live)) == sent, "the echo went on after the interrupt"
    assert any(s.interaction.event_type == "conversation.interrupt" for s in live.seen.sent()), (
        "the interrupt was not sent"
    )


async def test_an_audio_echo_stops_when_the_conversation_ends(open_session: Any) -> None:
    live = await open_session(session_options={"send_rate": 4.0, "send_burst": 1})
    pcm = b"\x01\x00" * 16000
    echo = asyncio.ensure_future(live.session.echo_audio(pcm, sample_rate=16000))
    await asyncio.sleep(0.3)
    await live.session.close("ended meanwhile")
    with pytest.raises(SessionError, match="ended"):
        await echo
    assert 0 < len(audio_chunks(live)) < len(split_echo_audio(live.cid, pcm, sample_rate=16000))
