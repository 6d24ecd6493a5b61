"""Message size is measured one way everywhere: UTF-8 bytes of compact JSON."""

from __future__ import annotations

from cvi_app.protocol import MAX_APP_MESSAGE_BYTES, ROLES, SENSITIVITY_LEVELS, message_size


def test_size_is_compact_json_in_utf8_bytes() -> None:
    assert message_size({"a": 1, "b": [1, 2]}) == len('{"a":1,"b":[1,2]}')
    assert message_size({"t": "é"}) == len('{"t":"é"}'.encode())
    assert message_size({"t": "😀"}) == len('{"t":""}') + 4


def test_escapes_count_at_their_escaped_size() -> None:
    assert message_size({"t": '"\n\x01'}) == len('{"t":""}') + 2 + 2 + 6


def test_limit_and_vocabulary_match_the_protocol() -> None:
    assert MAX_APP_MESSAGE_BYTES == 4096
    assert ROLES == ("user", "replica", "pal")
    assert SENSITIVITY_LEVELS == ("superlow", "verylow", "low", "medium", "high", "auto")
