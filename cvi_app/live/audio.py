"""Uploaded audio to what `conversation.echo` takes: raw 16-bit little-endian mono PCM."""

from __future__ import annotations

import io
import struct
import wave

MAX_WAV_BYTES = 20 * 1024 * 1024


class AudioError(ValueError):
    """The upload is not audio the replica can speak; the message says why."""


def wav_to_pcm16_mono(data: bytes) -> tuple[bytes, int]:
    """Decode a PCM WAV file (8/16/24/32-bit, any channels) to 16-bit mono; return it and its rate."""
    if len(data) > MAX_WAV_BYTES:
        raise AudioError(f"The file is larger than {MAX_WAV_BYTES // (1024 * 1024)} MB.")
    try:
        with wave.open(io.BytesIO(data)) as wav:
            channels, width, rate = wav.getnchannels(), wav.getsampwidth(), wav.getframerate()
            frames = wav.readframes(wav.getnframes())
    except (wave.Error, EOFError, struct.error, RuntimeError) as exc:
        # The wave module raises a bare RuntimeError when a chunk's size points past the end.
        raise AudioError(f"Not a PCM WAV file ({exc or type(exc).__name__}).") from exc
    if width not in (1, 2, 3, 4) or channels < 1:
        raise AudioError(f"Unsupported WAV format ({width * 8}-bit, {channels} channels).")
    if not frames:
        raise AudioError("The WAV file holds no audio.")
    samples = _to_int16(frames, width)
    if channels > 1:
        samples = [
            sum(samples[i : i + channels]) // channels
            for i in range(0, len(samples) - channels + 1, channels)
        ]
    return struct.pack(f"<{len(samples)}h", *samples), rate


def _to_int16(frames: bytes, width: int) -> list[int]:
    if width == 2:
        return list(struct.unpack(f"<{len(frames) // 2}h", frames[: len(frames) // 2 * 2]))
    if width == 1:  # unsigned 8-bit
        return [(b - 128) << 8 for b in frames]
    step = width
    out = []
    for i in range(0, len(frames) - step + 1, step):
        value = int.from_bytes(frames[i : i + step], "little", signed=True)
        out.append(value >> (8 * (step - 2)))
    return out
