"""A tab connected to one process shows and drives a conversation another process holds, and
keeps showing it when that process is killed and this one takes over."""

from __future__ import annotations

from pathlib import Path

import pytest

from cvi_app.live import manager as manager_module
from cvi_app.live.session import TAKEN_OVER
from cvi_app.state.room_controls import RoomControlsState
from cvi_app.state.room_feed import FeedState
from tests.cluster.nodes import ClusterEnv, cluster_env, local_node, person_in_room, spawn_node
from tests.state.rooms import open_room
from tests.support.feeds import sent_items
from tests.support.reflex_tabs import running_states

__all__ = ["cluster_env"]

pytestmark = pytest.mark.timeout(180)


async def test_a_room_on_another_process_shows_drives_and_survives_the_holder(
    cluster_env: ClusterEnv, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running_states() as backend, local_node(cluster_env) as here:
        monkeypatch.setattr(manager_module, "_manager", here)
        tab = backend.tab()
        async with spawn_node(cluster_env, tmp_path / "node.log", start_for=tab.identity) as there:
            cid = there.conversation_id
            async with person_in_room(here, cid):
                room = await open_room(tab, cid)
                assert room.status == "live"
                assert room.join_url, "the call URL comes from the holder"

                await tab.run(RoomControlsState.set_message, value="Hello over there")
                await tab.run(RoomControlsState.respond)

                def lines() -> list[str]:
                    """The transcript as the browser has it: every line sent, by id, latest text."""
                    latest: dict[str, str] = {}
                    for delta in tab.deltas(FeedState):
                        for item in sent_items(delta, "transcript"):
                            latest[item["id"]] = item.get("text", "")
                    return list(latest.values())

                await tab.wait(lambda: "Hello over there" in lines(), "the sent line")
                await tab.wait(lambda: len(lines()) >= 2, "the replica's answer")
                assert tab.toasts() == []

                there.kill()
                await tab.wait(lambda: room.notice == TAKEN_OVER, "the takeover notice")
                assert here.live_session(cid) is not None
                count = len(lines())
                await tab.run(RoomControlsState.set_message, value="Still with me?")
                await tab.run(RoomControlsState.respond)
                await tab.wait(lambda: len(lines()) >= count + 2, "the conversation to go on")
                assert lines().count("Hello over there") == 1, "each line once"
                assert tab.toasts() == []
