"""HomeState: the start form, over the app's session manager and the real sandbox."""

from __future__ import annotations

from sqlalchemy import Engine

from cvi_app.live.manager import SessionManager, StartOptions
from cvi_app.state.home_state import HomeState
from cvi_app.store import session_scope
from cvi_app.store.conversations import get_conversation
from tests.support.reflex_tabs import Backend, Tab


async def open_home(tab: Tab) -> HomeState:
    await tab.finished(await tab.open("/"), what="the home page's handlers")
    return await tab.state(HomeState)


async def test_the_form_lists_the_apis_personas_and_replicas_and_only_this_browsers_calls(
    live_states: Backend, app_manager: SessionManager
) -> None:
    tab = live_states.tab()
    mine = await app_manager.start_conversation(owner=tab.identity, options=StartOptions())
    await app_manager.start_conversation(owner=live_states.tab().identity, options=StartOptions())

    home = await open_home(tab)

    personas, replicas = await app_manager.catalog()
    assert [p["id"] for p in home.personas] == [p.persona_id for p in personas]
    assert "Support Agent" in [p["name"] for p in home.personas]
    assert [r["id"] for r in home.replicas] == [r.replica_id for r in replicas]
    assert [call["id"] for call in home.live] == [mine.conversation_id]
    assert home.catalog_error == ""


async def test_start_opens_the_room_of_a_conversation_this_browser_owns(
    live_states: Backend, app_manager: SessionManager, engine: Engine
) -> None:
    tab = live_states.tab()
    home = await open_home(tab)
    await tab.run(HomeState.set_name, value="Demo call")
    await tab.run(HomeState.set_greeting, value="Welcome to the demo.")

    await tab.run(HomeState.start)

    [cid] = await app_manager.live_conversations(owner=tab.identity)
    assert tab.redirects() == [f"/room/{cid}"]
    assert tab.toasts() == [] and home.starting is False
    with session_scope(engine) as s:
        row = get_conversation(s, conversation_id=cid)
    assert row is not None
    assert (row.name, row.greeting, row.owner_session) == (
        "Demo call",
        "Welcome to the demo.",
        tab.identity,
    )


async def test_a_double_click_on_start_starts_one_conversation(
    live_states: Backend, app_manager: SessionManager
) -> None:
    tab = live_states.tab()
    await open_home(tab)

    clicks = [await tab.send(HomeState.start), await tab.send(HomeState.start)]
    for click in clicks:
        await tab.finished(click, what="a click on Start")

    [cid] = await app_manager.live_conversations(owner=tab.identity)
    assert tab.redirects() == [f"/room/{cid}"]


async def test_an_option_the_server_refuses_is_named_and_nothing_starts(
    live_states: Backend, app_manager: SessionManager
) -> None:
    tab = live_states.tab()
    home = await open_home(tab)
    await tab.run(HomeState.set_max_call_duration, value="ten minutes")

    await tab.run(HomeState.start)

    [toast] = tab.toasts()
    assert toast.startswith("Max call duration must be a whole number of seconds")
    assert await app_manager.live_conversations(owner=tab.identity) == []
    assert tab.redirects() == [] and home.starting is False


async def test_a_browser_without_an_identity_is_told_to_reload_and_nothing_starts(
    live_states: Backend, app_manager: SessionManager
) -> None:
    tab = live_states.tab(identity="")
    home = await open_home(tab)

    await tab.run(HomeState.start)

    assert tab.toasts() == [
        "Could not start the conversation: Your browser has no session yet; reload the page."
    ]
    assert tab.redirects() == [] and home.starting is False
    assert await app_manager.live_conversations(owner="") == []
