"""Uploaded audio to what `conversation.echo` takes: raw 16-bit little-endian mono PCM.

Decoding works on whole buffers (`array`, slices of `bytes`), never a Python object per sample,
and is meant to run in a worker thread (`asyncio.to_thread`): a 20 MB file is a few slice
copies. Uploads are read with `read_capped`, which stops at the size limit.
"""

from __future__ import annotations

import io
import operator
import struct
import sys
import wave
from array import array
from collections.abc import AsyncIterable
from itertools import repeat
from typing import Protocol

MAX_WAV_BYTES = 20 * 1024 * 1024
MAX_SECONDS = 60.0

_FLIP_SIGN = bytes((b ^ 0x80) for b in range(256))


class AudioError(ValueError):
    """The upload is not audio the replica can speak; the message says why."""


class _Chunk(Protocol):
    data: bytes


def too_large_message(limit: int = MAX_WAV_BYTES) -> str:
    """What a person is told when a file is over the size limit."""
    return f"The file is larger than {limit // (1024 * 1024)} MB."


async def read_capped(chunks: AsyncIterable[_Chunk], *, limit: int = MAX_WAV_BYTES) -> bytes:
    """Read an upload's chunks into memory, stopping as soon as they pass `limit` bytes.

    Raises:
        AudioError: The upload is larger than `limit` (nothing more is read).
    """
    buffer = bytearray()
    async for chunk in chunks:
        if len(buffer) + len(chunk.data) > limit:
            raise AudioError(too_large_message(limit))
        buffer += chunk.data
    return bytes(buffer)


def wav_to_pcm16_mono(data: bytes, *, max_seconds: float = MAX_SECONDS) -> tuple[bytes, int]:
    """Decode a PCM WAV file (8/16/24/32-bit, any channels) to 16-bit mono; return it and its rate.

    Raises:
        AudioError: Not a PCM WAV file, larger than `MAX_WAV_BYTES`, or longer than
            `max_seconds` (checked from the header, before any sample is decoded).
    """
    if len(data) > MAX_WAV_BYTES:
        raise AudioError(too_large_message())
    try:
        with wave.open(io.BytesIO(data)) as wav:
            channels, width, rate = wav.getnchannels(), wav.getsampwidth(), wav.getframerate()
            count = wav.getnframes()
            if rate > 0 and count / rate > max_seconds:
                raise AudioError(
                    f"The audio is {count / rate:.1f} s long; "
                    f"echoes can be at most {max_seconds:g} s."
                )
            frames = wav.readframes(count)
    except (wave.Error, EOFError, struct.error, RuntimeError) as exc:
        # The wave module raises a bare RuntimeError when a chunk's size points past the end.
        raise AudioError(f"Not a PCM WAV file ({exc or type(exc).__name__}).") from exc
    if width not in (1, 2, 3, 4) or channels < 1:
        raise AudioError(f"Unsupported WAV format ({width * 8}-bit, {channels} channels).")
    if not frames:
        raise AudioError("The WAV file holds no audio.")
    pcm = _to_int16(frames, width)
    if channels > 1:
        pcm = _mix_down(pcm, channels)
    return pcm, rate


def _to_int16(frames: bytes, width: int) -> bytes:
    """Little-endian 16-bit samples: the top two bytes of each wider sample, 8-bit re-centred."""
    count = len(frames) // width
    out = bytearray(count * 2)
    if width == 2:
        return frames[: count * 2]
    if width == 1:  # unsigned 8-bit: (b - 128) << 8, i.e. a zero low byte and a flipped sign bit
        out[1::2] = frames[:count].translate(_FLIP_SIGN)
        return bytes(out)
    # 24/32-bit: keeping the top 16 bits is an arithmetic shift, done on the bytes.
    out[0::2] = frames[width - 2 : count * width : width]
    out[1::2] = frames[width - 1 : count * width : width]
    return bytes(out)


def _mix_down(pcm: bytes, channels: int) -> bytes:
    """The floor of the channels' mean, frame by frame (C-level iteration, no lists)."""
    samples = array("h")
    samples.frombytes(pcm[: len(pcm) // (2 * channels) * 2 * channels])
    if sys.byteorder == "big":
        samples.byteswap()
    total = array("i", samples[0::channels])
    for channel in range(1, channels):
        total = array("i", map(operator.add, total, samples[channel::channels]))
    mono = array("h", map(operator.floordiv, total, repeat(channels)))
    if sys.byteorder == "big":
        mono.byteswap()
    return mono.tobytes()
