"""The component's settings travel in the page signed: the server refuses any change."""

from __future__ import annotations

import pytest

from cvi_app.kit.presets import MAX_TOKEN_CHARS, Preset, PresetRefused, read_preset, sign_preset


def test_a_signed_preset_reads_back_as_it_was_given() -> None:
    preset = Preset(persona_id="p1", greeting="Hi!", max_call_duration=120)
    assert read_preset(sign_preset(preset)) == preset
    assert read_preset("") == Preset()


@pytest.mark.parametrize(
    "change",
    [
        lambda token: token[:-2] + ("AA" if not token.endswith("AA") else "BB"),
        lambda token: "x" + token,
        lambda token: token.replace(".", "", 1),
    ],
)
def test_a_changed_token_is_refused_in_a_sentence(change) -> None:
    token = sign_preset(Preset(persona_id="p1", max_call_duration=60))
    with pytest.raises(PresetRefused, match="Reload the page"):
        read_preset(change(token))


def test_an_oversized_token_is_refused_before_it_is_read() -> None:
    with pytest.raises(PresetRefused):
        read_preset("a" * (MAX_TOKEN_CHARS + 1))


def test_settings_out_of_bounds_cannot_be_made() -> None:
    with pytest.raises(ValueError):
        Preset(max_call_duration=10**9)
    with pytest.raises(ValueError):
        Preset(greeting="x" * 3000)
