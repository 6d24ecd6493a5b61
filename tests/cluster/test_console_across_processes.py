"""The console on one process shows a conversation another process holds, as it goes."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from cvi_app.live import manager as manager_module
from cvi_app.state.console_state import console_rows
from tests.cluster.nodes import ClusterEnv, cluster_env, local_node, spawn_node


async def _until(condition: Callable[[], Awaitable[bool]], what: str, within: float = 30) -> None:
    deadline = time.monotonic() + within
    while not await condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.2)


__all__ = ["cluster_env"]

pytestmark = pytest.mark.timeout(180)

OWNER = "c" * 64


async def test_a_conversation_held_elsewhere_is_in_this_consoles_table_with_its_last_line(
    cluster_env: ClusterEnv, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with local_node(cluster_env) as here:
        monkeypatch.setattr(manager_module, "_manager", here)
        async with spawn_node(cluster_env, tmp_path / "node.log", start_for=OWNER) as there:
            cid = there.conversation_id
            assert here.live_session(cid) is None, "held by the other process"
            rows: list[dict[str, str]] = []

            async def greeted() -> bool:
                nonlocal rows
                rows, _total = await console_rows(OWNER)
                return any(r["id"] == cid and r["last_line"].startswith("Replica: ") for r in rows)

            await _until(greeted, "the greeting in this process's console")
            [row] = [r for r in rows if r["id"] == cid]
            assert row["alerts"] == "" and row["speaking"] in ("quiet", "replica speaking")
            assert (await console_rows("d" * 64))[0] == [], "another browser's console"

            there.kill()

            # Its summary goes with it; the table says so until another process takes over.
            async def moved_or_back() -> bool:
                rows, _ = await console_rows(OWNER)
                return any(r["id"] == cid and r["alert_count"] != "0" for r in rows) or (
                    here.live_session(cid) is not None
                )

            await _until(moved_or_back, "the dead holder's summary to go")
