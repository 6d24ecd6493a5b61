"""Splitting long echoes into app-messages that each fit Daily's 4 KB limit, and joining them.

Every chunk of one echo carries the same ``inference_id``; only the last has ``done`` true.
Text is cut between characters (never inside one), preferably at a word boundary, and the chunk
texts joined give back exactly the input. Audio is cut on whole 16-bit samples and whole
3-byte base64 groups, so the decoded chunks concatenated give back exactly the input PCM.
"""

from __future__ import annotations

import base64
import binascii
import json
import unicodedata
import uuid
from collections.abc import Iterable

from pydantic import ValidationError

from .common import MAX_APP_MESSAGE_BYTES
from .errors import ProtocolError
from .interactions import EchoInteraction

__all__ = ["join_echo_audio", "join_echo_text", "split_echo_audio", "split_echo_text"]

# Smallest room worth sending a chunk in (one escaped control character takes 6 bytes).
_MIN_PAYLOAD_BYTES = 16
# Base64 turns 3 bytes into 4 characters; 6 bytes is also a whole number of 16-bit samples.
_AUDIO_STEP_BYTES = 6
_ZWJ = "\u200d"
# Grapheme clusters are short; a longer run of joiners is cut anyway rather than shrink chunks.
_MAX_GRAPHEME_BACKOFF = 16


def _new_inference_id() -> str:
    return f"echo-{uuid.uuid4().hex}"


def _echo(
    conversation_id: str,
    *,
    inference_id: str,
    done: bool,
    text: str | None = None,
    audio: str | None = None,
    sample_rate: int | None = None,
) -> EchoInteraction:
    properties = {
        "modality": "text" if audio is None else "audio",
        "text": text,
        "audio": audio,
        "sample_rate": sample_rate,
        "inference_id": inference_id,
        "done": done,
    }
    try:
        return EchoInteraction.model_validate(
            {"conversation_id": conversation_id, "properties": properties}
        )
    except ValidationError as exc:
        raise ProtocolError.from_validation_error(exc) from None


def _payload_budget(probe: EchoInteraction, placeholder: str) -> int:
    """Bytes left for the text/audio value once the rest of a chunk message is counted."""
    budget = MAX_APP_MESSAGE_BYTES - (probe.wire_size - len(placeholder))
    if budget < _MIN_PAYLOAD_BYTES:
        raise ProtocolError(
            "conversation_id", "conversation_id and inference_id leave no room for the echo"
        )
    return budget


def _char_cost(char: str) -> int:
    """Bytes one character takes inside a compact JSON string (escapes included)."""
    if char >= " " and char not in '"\\':
        return len(char.encode("utf-8"))
    return len(json.dumps(char, ensure_ascii=False).encode("utf-8")) - 2


def _joins_previous(char: str) -> bool:
    """Whether a character belongs to the one before it (combining mark, ZWJ, selector...)."""
    code = ord(char)
    return (
        unicodedata.combining(char) != 0
        or char == _ZWJ
        or 0xFE00 <= code <= 0xFE0F
        or 0x1F3FB <= code <= 0x1F3FF
        or 0xE0020 <= code <= 0xE007F
    )


def _cut_text(text: str, budget: int) -> list[str]:
    """Cut text into pieces of at most ``budget`` JSON bytes, each holding more than space.

    A piece ends, by preference, where a word starts after white space; failing that, at the
    budget (inside a white-space run, which is still between words, or inside a long word, but
    not inside a grapheme when that can be helped).
    """
    pieces: list[str] = []
    start, length = 0, len(text)
    while start < length:
        used, end = 0, start
        word_break = None
        seen_word = False
        while end < length:
            cost = _char_cost(text[end])
            if used + cost > budget:
                break
            used += cost
            end += 1
            seen_word = seen_word or not text[end - 1].isspace()
            if seen_word and end < length and text[end - 1].isspace() and not text[end].isspace():
                word_break = end
        if end < length:
            if word_break is not None:
                end = word_break
            elif not text[end].isspace() and not text[end - 1].isspace():
                end = _grapheme_start(text, start, end)
        piece = text[start:end]
        if not piece.strip():
            raise ProtocolError(
                "text", "holds a run of white space too long to fit one app-message"
            )
        pieces.append(piece)
        start = end
    return pieces


def _grapheme_start(text: str, start: int, end: int) -> int:
    """Move a cut inside a word back so it does not split a grapheme, if that leaves a word."""
    cut = end
    while (
        cut - 1 > start
        and end - cut < _MAX_GRAPHEME_BACKOFF
        and (_joins_previous(text[cut]) or text[cut - 1] == _ZWJ)
    ):
        cut -= 1
    return cut if text[start:cut].strip() else end


def split_echo_text(
    conversation_id: str, text: str, *, inference_id: str | None = None
) -> list[EchoInteraction]:
    """Split text into as few text echoes as fit one app-message each.

    Args:
        conversation_id: The conversation to echo into.
        text: What the replica should say (any length).
        inference_id: Shared by every chunk; generated when None.

    Returns:
        The chunks in order; only the last has ``done`` true.

    Raises:
        ProtocolError: The text is blank, or holds a white-space run too long for one message.
    """
    if not isinstance(text, str) or not text.strip():
        raise ProtocolError("text", "must hold more than white space")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ProtocolError("text", "holds characters UTF-8 cannot encode") from None
    inference_id = inference_id or _new_inference_id()
    probe = _echo(conversation_id, inference_id=inference_id, done=False, text="x")
    budget = _payload_budget(probe, "x")
    pieces = _cut_text(text, budget)
    return [
        _echo(conversation_id, inference_id=inference_id, done=index == len(pieces) - 1, text=piece)
        for index, piece in enumerate(pieces)
    ]


def split_echo_audio(
    conversation_id: str,
    pcm: bytes,
    *,
    sample_rate: int = 24000,
    inference_id: str | None = None,
) -> list[EchoInteraction]:
    """Split raw 16-bit mono PCM into audio echoes that fit one app-message each.

    Args:
        conversation_id: The conversation to echo into.
        pcm: Raw little-endian 16-bit mono samples (an even number of bytes).
        sample_rate: Samples per second of ``pcm`` (24000 is what Tavus recommends).
        inference_id: Shared by every chunk; generated when None.

    Returns:
        The chunks in order, each cut on whole samples; only the last has ``done`` true.

    Raises:
        ProtocolError: The audio is empty or has an odd number of bytes, or the sample rate is
            invalid.
    """
    if not isinstance(pcm, bytes | bytearray | memoryview):
        raise ProtocolError("audio", "must be raw PCM bytes")
    pcm = bytes(pcm)
    if not pcm:
        raise ProtocolError("audio", "is empty")
    if len(pcm) % 2:
        raise ProtocolError("audio", "16-bit PCM must have an even number of bytes")
    inference_id = inference_id or _new_inference_id()
    probe = _echo(
        conversation_id,
        inference_id=inference_id,
        done=False,
        audio="AAAA",
        sample_rate=sample_rate,
    )
    budget = _payload_budget(probe, "AAAA")
    step = (budget // 4) * 3 // _AUDIO_STEP_BYTES * _AUDIO_STEP_BYTES
    offsets = range(0, len(pcm), step)
    return [
        _echo(
            conversation_id,
            inference_id=inference_id,
            done=offset + step >= len(pcm),
            audio=base64.b64encode(pcm[offset : offset + step]).decode("ascii"),
            sample_rate=sample_rate,
        )
        for offset in offsets
    ]


def join_echo_text(chunks: Iterable[EchoInteraction]) -> str:
    """Reassemble the text of text echoes split by :func:`split_echo_text`.

    Raises:
        ProtocolError: A chunk is not a text echo.
    """
    parts: list[str] = []
    for chunk in chunks:
        if chunk.properties.modality != "text" or chunk.properties.text is None:
            raise ProtocolError("properties.modality", "every chunk must be a text echo")
        parts.append(chunk.properties.text)
    return "".join(parts)


def join_echo_audio(chunks: Iterable[EchoInteraction]) -> bytes:
    """Reassemble the PCM of audio echoes split by :func:`split_echo_audio`.

    Raises:
        ProtocolError: A chunk is not an audio echo.
    """
    parts: list[bytes] = []
    for chunk in chunks:
        if chunk.properties.modality != "audio" or chunk.properties.audio is None:
            raise ProtocolError("properties.modality", "every chunk must be an audio echo")
        try:
            parts.append(base64.b64decode(chunk.properties.audio, validate=True))
        except (binascii.Error, ValueError):  # pragma: no cover - validated on construction
            raise ProtocolError("properties.audio", "must be valid base64") from None
    return b"".join(parts)
