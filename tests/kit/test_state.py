"""A host's ConversationState: handlers stay on the server, settings are not browser vars."""

from __future__ import annotations

import reflex as rx

from cvi_app import kit
from cvi_app.kit.presets import Preset


class _Shop(kit.ConversationState, rx.State):
    settings = kit.Settings(persona_id="p-shop", greeting="Welcome to the shop.")
    said: str = ""

    async def on_utterance(self, role: str, text: str) -> None:
        self.said = text


class _Outlet(_Shop):
    settings = kit.Settings(persona_id="p-outlet")


def test_handlers_are_not_event_handlers_a_browser_could_call() -> None:
    handlers = set(_Shop.event_handlers)
    assert {"start", "respond", "echo", "interrupt", "end"} <= handlers
    assert not handlers & set(kit.HOOKS)


def test_settings_are_not_vars_a_browser_could_set() -> None:
    assert "settings" not in _Shop.vars and "persona_id" not in _Shop.vars
    assert _Shop.settings.persona_id == "p-shop"


def test_the_pages_signed_settings_override_the_states_own() -> None:
    shop = _Shop.__new__(_Shop)
    options = _Shop._options(shop, Preset(greeting="Hello from the page."))
    assert (options.persona_id, options.greeting) == ("p-shop", "Hello from the page.")
    assert options.max_call_duration == 600  # the kit's default

    outlet = _Outlet.__new__(_Outlet)
    options = _Outlet._options(outlet, Preset())
    assert (options.persona_id, options.greeting) == ("p-outlet", "")
