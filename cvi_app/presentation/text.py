"""Small text helpers every row and sentence shares: shortening, times, speaker names."""

from __future__ import annotations

from datetime import datetime

__all__ = [
    "page_note",
    "rating_sentence",
    "SPEAKERS",
    "caption_tail",
    "clock_time",
    "end_reason_sentence",
    "sentence",
    "short",
    "speaker",
]

SPEAKERS = {"user": "User", "replica": "Replica", "assistant": "Replica", "system": "System"}
"""What each role is called where a person reads a transcript."""


def speaker(role: str) -> str:
    """The name a role is shown under (`assistant` and `replica` are both "Replica")."""
    return SPEAKERS.get(role, role.title())


def short(text: str, limit: int) -> str:
    """`text`, cut to at most `limit` characters with an ellipsis when it is longer."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def clock_time(moment: datetime | None) -> str:
    """A stored moment to the millisecond (`2026-12-02 07:01:02.345`); "" when unknown."""
    if moment is None:
        return ""
    return moment.strftime("%Y-%m-%d %H:%M:%S.") + f"{moment.microsecond // 1000:03d}"


def sentence(text: str) -> str:
    """`text` as one sentence: stripped, ending with a full stop unless it has an ending."""
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else text + "."


# Tavus's `shutdown_reason`s (and the app's own), as a person reads them. The code itself stays
# in the Events panel and the store.
_END_REASONS = {
    "end_conversation_endpoint_hit": "The conversation was ended.",
    "max_call_duration": "The conversation reached its time limit.",
    "participant_left_timeout": "Everyone left the call, so the conversation ended.",
    "participant_absent_timeout": "Nobody joined the call in time, so the conversation ended.",
    "daily_room_has_been_deleted": "The conversation's room was closed.",
    "everyone left the call": "Everyone left the call, so the conversation ended.",
    "backend shutting down": "The app was restarted while the conversation was live.",
    "shutdown": "The conversation was ended.",
}


def end_reason_sentence(reason: str | None) -> str:
    """Why a conversation ended, as one plain sentence ("" when no reason is known)."""
    if not reason or not reason.strip():
        return ""
    code = reason.strip().removesuffix(" reached").strip()
    known = _END_REASONS.get(code) or _END_REASONS.get(code.lower())
    if known:
        return known
    words = code.replace("_", " ").strip()
    return sentence(f"The conversation ended: {short(words, 120)}")


CAPTION_CHARS = 180


def caption_tail(speech: str, limit: int = CAPTION_CHARS) -> str:
    """The end of what is being said, as a caption shows it (whole words, at most `limit`)."""
    speech = " ".join(speech.split())
    if len(speech) <= limit:
        return speech
    tail = speech[-limit:]
    space = tail.find(" ")
    return "…" + (tail[space + 1 :] if space >= 0 else tail)


STEER_WORDS = {
    "respond": "sent a user turn",
    "echo": "made the replica say something",
    "interrupt": "interrupted the replica",
    "overwrite_context": "replaced the replica's context",
    "append_context": "added to the replica's context",
    "pause_sensitivity": "changed the pause sensitivity",
    "interrupt_sensitivity": "changed the interrupt sensitivity",
    "audio": "sent an audio echo",
    "tool_result": "answered a tool call",
    "raw": "sent an interaction as JSON",
    "watch": "is watching",
}
"""What the Events panel says an operator did, by the control's name."""


def rating_sentence(rating: int | None, comment: str | None = None) -> str:
    """A visitor's rating as people read it ("Rated 4 of 5: Quick."), or "" when not rated."""
    if rating is None:
        return ""
    said = f": {short(comment, 200)}" if comment else ""
    return f"Rated {rating} of 5{said}"


def page_note(page: str, rating: int | None) -> str:
    """Where a visitor's conversation came from, and its rating, in one line ("" for others)."""
    if not page:
        return ""
    rated = f", rated {rating} of 5" if rating is not None else ""
    return f"From the page {page}{rated}"
