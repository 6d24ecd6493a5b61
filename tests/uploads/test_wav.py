"""WAV uploads become the 16-bit mono PCM that `conversation.echo` takes; anything else is refused."""

from __future__ import annotations

import io
import math
import random
import struct
import wave
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cvi_app.uploads.wav import MAX_WAV_BYTES, AudioError, read_capped, wav_to_pcm16_mono


def make_wav(frames: bytes, *, width: int, channels: int = 1, rate: int = 16000) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(width)
        wav.setframerate(rate)
        wav.writeframes(frames)
    return buffer.getvalue()


def pcm16(*samples: int) -> bytes:
    return struct.pack(f"<{len(samples)}h", *samples)


def test_16_bit_mono_comes_back_unchanged_with_its_rate() -> None:
    samples = pcm16(0, 1, -1, 32767, -32768, 1234)
    assert wav_to_pcm16_mono(make_wav(samples, width=2, rate=24000)) == (samples, 24000)


def test_8_bit_unsigned_samples_are_centred_and_widened() -> None:
    pcm, rate = wav_to_pcm16_mono(make_wav(bytes([0, 128, 255]), width=1, rate=8000))
    assert (pcm, rate) == (pcm16(-32768, 0, 32512), 8000)


def test_24_bit_samples_keep_their_top_16_bits() -> None:
    def s24(value: int) -> bytes:
        return value.to_bytes(3, "little", signed=True)

    frames = s24(0x123456) + s24(-0x123456) + s24(0x7FFFFF) + s24(-0x800000)
    pcm, _ = wav_to_pcm16_mono(make_wav(frames, width=3))
    assert pcm == pcm16(0x1234, -0x1235, 0x7FFF, -0x8000)


def test_32_bit_samples_keep_their_top_16_bits() -> None:
    frames = struct.pack("<2i", 0x12345678, -0x80000000)
    pcm, _ = wav_to_pcm16_mono(make_wav(frames, width=4))
    assert pcm == pcm16(0x1234, -0x8000)


def test_stereo_is_mixed_down_to_mono() -> None:
    frames = pcm16(1000, 3000, -2000, 2000, 32767, 32767)
    pcm, rate = wav_to_pcm16_mono(make_wav(frames, width=2, channels=2, rate=22050))
    assert (pcm, rate) == (pcm16(2000, 0, 32767), 22050)


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (b"", "Not a PCM WAV file"),
        (b"ID3\x03\x00 an mp3 file, not a wav", "Not a PCM WAV file"),
        (make_wav(pcm16(1, 2, 3), width=2)[:30], "Not a PCM WAV file"),
        (make_wav(b"", width=2), "holds no audio"),
    ],
    ids=["empty", "mp3", "cut-short", "no-frames"],
)
def test_what_is_not_usable_audio_is_refused_with_a_reason(data: bytes, says: str) -> None:
    with pytest.raises(AudioError, match=says):
        wav_to_pcm16_mono(data)


def test_a_chunk_that_claims_more_than_the_file_holds_is_refused() -> None:
    data = bytearray(make_wav(pcm16(1, 2, 3, 4), width=2))
    data[16:20] = (0xE410).to_bytes(4, "little")  # the fmt chunk's size, far past the end
    with pytest.raises(AudioError, match="Not a PCM WAV file"):
        wav_to_pcm16_mono(bytes(data))


def test_a_file_over_the_size_limit_is_refused_before_it_is_read() -> None:
    with pytest.raises(AudioError, match="larger than 20 MB"):
        wav_to_pcm16_mono(b"\0" * (MAX_WAV_BYTES + 1))


@settings(max_examples=300)
@given(
    st.binary(max_size=200)
    | st.tuples(st.integers(0, 60), st.binary(min_size=1, max_size=8)).map(
        lambda cut: _corrupt(cut[0], cut[1])
    )
)
def test_garbage_only_ever_raises_audio_error(data: bytes) -> None:
    try:
        wav_to_pcm16_mono(data)
    except AudioError:
        pass


def _corrupt(at: int, junk: bytes) -> bytes:
    good = make_wav(pcm16(*range(-8, 8)), width=2, channels=2)
    return good[:at] + junk + good[at + len(junk) :]


def reference_decode(frames: bytes, *, width: int, channels: int) -> bytes:
    """The decoder's meaning, one sample at a time (slow, plain, for comparison)."""
    values = []
    for i in range(0, len(frames) - width + 1, width):
        chunk = frames[i : i + width]
        if width == 1:
            values.append((chunk[0] - 128) << 8)
        else:
            values.append(int.from_bytes(chunk, "little", signed=True) >> (8 * (width - 2)))
    mono = [
        sum(values[i : i + channels]) // channels
        for i in range(0, len(values) - channels + 1, channels)
    ]
    return struct.pack(f"<{len(mono)}h", *mono)


@pytest.mark.parametrize("width", [1, 2, 3, 4])
@pytest.mark.parametrize("channels", [1, 2, 3])
def test_a_real_wav_decodes_to_the_same_samples_as_the_plain_reference(
    width: int, channels: int
) -> None:
    rng = random.Random(width * 10 + channels)
    count = 4000
    frames = bytes(rng.randrange(256) for _ in range(count * width * channels))
    data = make_wav(frames, width=width, channels=channels, rate=22050)

    pcm, rate = wav_to_pcm16_mono(data)

    assert rate == 22050
    assert len(pcm) == count * 2
    assert pcm == reference_decode(frames, width=width, channels=channels)


def test_a_sine_tone_survives_the_mix_down() -> None:
    tone = [int(10000 * math.sin(2 * math.pi * 440 * i / 16000)) for i in range(16000)]
    stereo = struct.pack(f"<{2 * len(tone)}h", *(v for s in tone for v in (s, s)))
    pcm, _ = wav_to_pcm16_mono(make_wav(stereo, width=2, channels=2))
    assert pcm == struct.pack(f"<{len(tone)}h", *tone)


def test_audio_longer_than_the_cap_is_refused_with_its_length() -> None:
    rate = 8000
    data = make_wav(b"\0\0" * rate * 61, width=2, rate=rate)  # 61 s
    with pytest.raises(AudioError, match=r"61\.0 s long; echoes can be at most 60 s"):
        wav_to_pcm16_mono(data)
    pcm, _ = wav_to_pcm16_mono(make_wav(b"\0\0" * rate * 59, width=2, rate=rate))
    assert len(pcm) == rate * 59 * 2


@dataclass
class Piece:
    data: bytes


async def test_reading_an_upload_stops_at_the_cap() -> None:
    taken = 0

    async def pieces():
        nonlocal taken
        while True:  # an endless upload
            taken += 1
            yield Piece(b"\0" * 1000)

    with pytest.raises(AudioError, match="larger than 0 MB"):
        await read_capped(pieces(), limit=10_500)
    assert taken == 11

    async def small():
        yield Piece(b"ab")
        yield Piece(b"cd")

    assert await read_capped(small(), limit=4) == b"abcd"
