"""AppState: the mode every page shows, and the owner identity every handler checks."""

from __future__ import annotations

import secrets

import pytest
from sqlalchemy import Engine

from cvi_app.state.app_state import AppState
from cvi_app.state.history_state import HistoryState
from tests.store.helpers import add_conversation
from tests.support.reflex_tabs import Backend


async def test_every_page_shows_the_mode_the_backend_runs_in(live_states: Backend) -> None:
    tab = live_states.tab()
    await tab.finished(await tab.open("/history"))
    assert (await tab.state(AppState)).mode == "sandbox"


@pytest.mark.parametrize(
    ("cookie", "counts"),
    [
        ("theme=dark; cvi_identity={identity}", True),
        ("cvi_identity={identity}; theme=dark", True),
        ("cvi_identity={identity}0", False),
        ("cvi_identity={short}", False),
        ("cvi_owner={identity}", False),
        ("CVI_IDENTITY={identity}", False),
    ],
)
async def test_only_the_web_guards_full_identity_header_names_the_owner(
    live_states: Backend, engine: Engine, cookie: str, counts: bool
) -> None:
    identity, short = secrets.token_hex(32), secrets.token_hex(8)
    add_conversation(engine, "c-mine", name="Mine", owner_session=identity)
    add_conversation(engine, "c-short", name="Short", owner_session=short)
    tab = live_states.tab()
    tab.cookie = cookie.format(identity=identity, short=short)

    await tab.finished(await tab.open("/history"))

    rows = (await tab.state(HistoryState)).rows
    assert [row["name"] for row in rows] == (["Mine"] if counts else [])
