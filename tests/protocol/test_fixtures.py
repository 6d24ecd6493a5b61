"""Every line of the shared protocol fixtures gives the expected verdict."""

from __future__ import annotations

from typing import Any

import pytest

from cvi_app.protocol import Event, Interaction, ProtocolError, parse_event, validate_interaction

from .conftest import load_fixture_cases

INBOUND = load_fixture_cases("inbound.jsonl")
OUTBOUND = load_fixture_cases("outbound.jsonl")


@pytest.mark.parametrize(("expect", "raw"), INBOUND)
def test_inbound_fixture_is_accepted_or_rejected_as_expected(expect: str, raw: Any) -> None:
    if expect == "ok":
        assert isinstance(parse_event(raw), Event)
    else:
        with pytest.raises(ProtocolError):
            parse_event(raw)


@pytest.mark.parametrize(("expect", "raw"), OUTBOUND)
def test_outbound_fixture_is_accepted_or_rejected_as_expected(expect: str, raw: Any) -> None:
    if expect == "ok":
        interaction = validate_interaction(raw)
        assert isinstance(interaction, Interaction)
        assert interaction.to_message() == raw
    else:
        with pytest.raises(ProtocolError):
            validate_interaction(raw)


def test_fixtures_cover_both_verdicts_in_both_directions() -> None:
    for cases in (INBOUND, OUTBOUND):
        assert {expect for expect, _ in cases} == {"ok", "reject"}
