"""What a person is told when the protocol refuses a send."""

from __future__ import annotations

import pytest

from cvi_app.presentation.errors import describe_error, describe_protocol_error
from cvi_app.protocol import MAX_APP_MESSAGE_BYTES, MessageTooLarge, ProtocolError, respond

TOO_LONG = (
    "This is too long to send in one message (the limit is about 4,000 characters). "
    "Shorten it, or use Echo, which splits long text."
)


def test_a_message_too_long_to_send_says_to_shorten_it_or_use_echo() -> None:
    with pytest.raises(MessageTooLarge) as refused:
        respond("c1", "x" * 5000)
    assert describe_protocol_error(refused.value) == describe_error(refused.value) == TOO_LONG


def test_too_long_is_told_by_the_kind_of_error_not_by_its_words() -> None:
    assert describe_error(MessageTooLarge(5000, MAX_APP_MESSAGE_BYTES)) == TOO_LONG
    other = ProtocolError("properties.text", "mentions the app-message limit")
    assert describe_protocol_error(other) == (
        "That is not a message the replica accepts (properties.text): "
        "mentions the app-message limit."
    )


def test_a_blank_message_says_to_write_one_first() -> None:
    with pytest.raises(ProtocolError) as refused:
        respond("c1", "   ")
    assert describe_protocol_error(refused.value) == "Write a message first."
