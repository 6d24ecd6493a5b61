"""Long echoes are split into messages that each fit 4 KB and reassemble exactly."""

from __future__ import annotations

import base64
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cvi_app.protocol import (
    MAX_APP_MESSAGE_BYTES,
    EchoInteraction,
    ProtocolError,
    echo_text,
    join_echo_audio,
    join_echo_text,
    message_size,
    split_echo_audio,
    split_echo_text,
    validate_interaction,
)

from .strategies import FAST

ascii_words = st.text(alphabet="abcdefghijklmnopqrstuvwxyz'\",.!?\\", min_size=1, max_size=12)
cjk_words = st.text(alphabet="你好世界会话视频互动协议日本語한국어", min_size=1, max_size=8)
emoji_words = st.text(alphabet="😀🎉👍🏽❤️‍🔥👨‍👩‍👧🇫🇷é́", min_size=1, max_size=6)
any_words = st.text(min_size=1, max_size=10).filter(lambda w: w.strip() != "")
long_words = st.tuples(ascii_words | cjk_words | emoji_words, st.integers(200, 2500)).map(
    lambda pair: pair[0] * pair[1]
)
separators = st.sampled_from([" ", "  ", "\n", "\t", " \u3000", "\n\n", "\r\n"])


@st.composite
def long_texts(draw: st.DrawFn) -> str:
    words = draw(
        st.lists(
            ascii_words | cjk_words | emoji_words | any_words | long_words, min_size=1, max_size=400
        )
    )
    text = ""
    for word in words:
        text += word + draw(separators)
    return draw(st.sampled_from([text, text.strip(), draw(separators) + text]))


def _assert_well_formed(chunks: list[EchoInteraction]) -> None:
    assert chunks
    inference_ids = {chunk.properties.inference_id for chunk in chunks}
    assert len(inference_ids) == 1 and None not in inference_ids
    assert [chunk.properties.done for chunk in chunks] == [False] * (len(chunks) - 1) + [True]
    for chunk in chunks:
        message = chunk.to_message()
        assert message_size(message) <= MAX_APP_MESSAGE_BYTES
        assert validate_interaction(message) == chunk


@FAST
@given(long_texts(), st.none() | st.text(min_size=1, max_size=40))
def test_split_text_fits_every_message_and_joins_back_exactly(
    text: str, inference_id: str | None
) -> None:
    chunks = split_echo_text("c0a1b2c3d4", text, inference_id=inference_id)
    _assert_well_formed(chunks)
    assert join_echo_text(chunks) == text
    if inference_id is not None:
        assert chunks[0].properties.inference_id == inference_id


def test_short_text_is_one_done_message() -> None:
    (chunk,) = split_echo_text("c1", "Hello there!")
    assert chunk.properties.done is True
    assert chunk.properties.text == "Hello there!"
    assert chunk.properties.inference_id


def test_text_is_cut_at_word_boundaries() -> None:
    words = [f"word{i}" for i in range(3000)]
    text = " ".join(words)
    chunks = split_echo_text("c1", text, inference_id="e1")
    assert len(chunks) > 1
    for chunk in chunks[:-1]:
        assert chunk.properties.text is not None
        assert chunk.properties.text.endswith(" ")
    assert [word for chunk in chunks for word in (chunk.properties.text or "").split()] == words


def test_a_word_longer_than_a_message_is_cut_between_characters() -> None:
    text = "start " + "😀" * 3000 + " end"
    chunks = split_echo_text("c1", text)
    _assert_well_formed(chunks)
    assert join_echo_text(chunks) == text
    assert len(chunks) >= 3


def test_escaped_characters_count_at_their_escaped_size() -> None:
    text = '"\\\x01' * 2000
    chunks = split_echo_text("c1", text)
    _assert_well_formed(chunks)
    assert join_echo_text(chunks) == text


def test_emoji_sequences_are_not_cut_apart_when_avoidable() -> None:
    family = "👨‍👩‍👧"
    text = family * 1000
    chunks = split_echo_text("c1", text)
    for chunk in chunks:
        assert chunk.properties.text is not None
        assert len(chunk.properties.text) % len(family) == 0


def test_blank_text_is_refused() -> None:
    with pytest.raises(ProtocolError, match="^text"):
        split_echo_text("c1", " \n ")


def test_white_space_run_is_shared_between_the_words_around_it() -> None:
    text = "a" + " " * 5000 + "b"
    chunks = split_echo_text("c1", text)
    _assert_well_formed(chunks)
    assert join_echo_text(chunks) == text


def test_white_space_run_that_needs_a_message_of_its_own_is_refused() -> None:
    with pytest.raises(ProtocolError, match="white space"):
        split_echo_text("c1", "a" + " " * 9000 + "b")


def test_conversation_id_too_long_to_leave_room_is_refused() -> None:
    with pytest.raises(ProtocolError):
        split_echo_text("c" * 5000, "hello")


def _pcm(samples: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(samples * 2)


@FAST
@given(st.integers(min_value=1, max_value=40_000), st.integers(), st.sampled_from([16000, 24000]))
def test_split_audio_fits_every_message_and_joins_back_exactly(
    samples: int, seed: int, sample_rate: int
) -> None:
    pcm = _pcm(samples, seed)
    chunks = split_echo_audio("c0a1b2c3d4", pcm, sample_rate=sample_rate)
    _assert_well_formed(chunks)
    assert join_echo_audio(chunks) == pcm
    for chunk in chunks:
        assert chunk.properties.modality == "audio"
        assert chunk.properties.sample_rate == sample_rate
    for chunk in chunks[:-1]:
        raw = base64.b64decode(chunk.properties.audio or "")
        assert len(raw) % 6 == 0  # whole samples and whole base64 groups, no padding
        assert not (chunk.properties.audio or "").endswith("=")


def test_split_audio_uses_the_given_inference_id() -> None:
    chunks = split_echo_audio("c1", _pcm(24000, 1), inference_id="utt-7")
    assert {chunk.properties.inference_id for chunk in chunks} == {"utt-7"}
    assert len(chunks) > 1


@pytest.mark.parametrize(("pcm", "reason"), [(b"", "empty"), (b"\x00\x01\x02", "even number")])
def test_audio_that_is_not_whole_16_bit_samples_is_refused(pcm: bytes, reason: str) -> None:
    with pytest.raises(ProtocolError, match=reason):
        split_echo_audio("c1", pcm)


def test_invalid_sample_rate_is_refused() -> None:
    with pytest.raises(ProtocolError, match="sample_rate"):
        split_echo_audio("c1", b"\x00\x00", sample_rate=0)


def test_joining_refuses_chunks_of_the_other_modality() -> None:
    text_chunks = [echo_text("c1", "hi")]
    audio_chunks = split_echo_audio("c1", b"\x00\x00")
    with pytest.raises(ProtocolError):
        join_echo_audio(text_chunks)
    with pytest.raises(ProtocolError):
        join_echo_text(audio_chunks)
