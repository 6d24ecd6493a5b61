"""A host's handlers over a real sandbox conversation: what the replica does reaches Python,
and a tool no Python tool answers is answered by the page's own `on_tool_call`."""

from __future__ import annotations

from typing import Any

import reflex as rx

from cvi_app import kit
from cvi_app.kit.presets import Preset, sign_preset
from cvi_app.live.manager import SessionManager
from cvi_app.sandbox.catalog import NATHAN_REPLICA_ID
from tests.support.reflex_tabs import Backend
from tests.support.sandbox import LiveSandbox

CHECK_STOCK = {
    "type": "function",
    "function": {
        "name": "check_stock",
        "description": "How many pairs are in stock.",
        "parameters": {"type": "object", "properties": {}},
    },
}


class _Shop(kit.ConversationState, rx.State):
    heard: list[str] = []
    asked: list[str] = []
    ended_because: str = ""

    async def on_utterance(self, role: str, text: str) -> None:
        self.heard = [*self.heard, f"{role}: {text}"]

    async def on_tool_call(self, name: str, arguments: dict[str, Any]) -> Any:
        self.asked = [*self.asked, name]
        return {"in_stock": 7} if name == "check_stock" else None

    async def on_end(self, reason: str) -> None:
        self.ended_because = reason or "(no reason)"


async def test_the_pages_handlers_hear_the_replica_and_answer_its_tool(
    live_states: Backend, app_manager: SessionManager, mounted_sandbox: LiveSandbox
) -> None:
    created = await mounted_sandbox.api.post(
        "/v2/personas",
        json={
            "persona_name": "Shop",
            "system_prompt": "You sell shoes.",
            "default_replica_id": NATHAN_REPLICA_ID,
            "layers": {"llm": {"model": "tavus-gpt-4o", "tools": [CHECK_STOCK]}},
        },
    )
    assert created.status_code == 200, created.text
    persona = created.json()["persona_id"]
    tab = live_states.tab()
    shop = await tab.state(_Shop)

    await tab.send(_Shop.start, preset=sign_preset(Preset(persona_id=persona, greeting="Hello!")))
    await tab.wait(lambda: shop.status == "live" and shop.join_url, "the conversation live")
    await tab.wait(lambda: "replica: Hello!" in shop.heard, "the greeting heard in Python")

    await tab.send(_Shop.respond, text="Can you check stock for the trail runner?")
    await tab.wait(lambda: shop.asked == ["check_stock"], "the page's tool handler asked")
    # The handler's answer went back as conversation.tool_result and the replica said it.
    await tab.wait(lambda: any("in_stock: 7" in line for line in shop.heard), "the answer said")
    assert any(line["text"] and "in_stock: 7" in line["text"] for line in shop.lines)

    await tab.send(_Shop.end)
    await tab.wait(lambda: shop.status == "ended", "the end")
    assert shop.ended_because


async def test_a_start_with_changed_settings_is_refused_and_nothing_starts(
    live_states: Backend, app_manager: SessionManager
) -> None:
    tab = live_states.tab()
    token = sign_preset(Preset(persona_id="p-anything", max_call_duration=60))
    await tab.run(_Shop.start, preset=token[:-3] + "xyz")
    shop = await tab.state(_Shop)
    assert (shop.status, shop.error) == ("idle", kit.PRESET_REFUSED)
    assert await app_manager.live_conversations(owner=tab.identity) == []


async def test_another_browser_cannot_drive_a_tabs_conversation(
    live_states: Backend, app_manager: SessionManager
) -> None:
    mine, theirs = live_states.tab(), live_states.tab()
    shop = await mine.state(_Shop)
    await mine.send(_Shop.start)
    await mine.wait(lambda: shop.status == "live", "the conversation live")
    # Their tab has no conversation of its own: the kit never takes an id from the page.
    await theirs.run(_Shop.respond, text="Hijack")
    other = await theirs.state(_Shop)
    assert other.error == "Start the conversation first."
    await mine.send(_Shop.end)
    await mine.wait(lambda: shop.status == "ended", "the end")
