"""The Reflex app: its pages (the backend's routes and tasks are `cvi_app.backend`'s)."""

import reflex as rx

from cvi_app.backend import install_backend
from cvi_app.components.storage_fallback import storage_fallback
from cvi_app.config import get_settings
from cvi_app.pages.accounts import accounts
from cvi_app.pages.audit import audit
from cvi_app.pages.component_demo import ROUTE as DEV_ROUTE
from cvi_app.pages.component_demo import component_demo, dev_pages_enabled
from cvi_app.pages.console import console
from cvi_app.pages.conversation import conversation
from cvi_app.pages.deployments import deployments
from cvi_app.pages.guest import guest
from cvi_app.pages.history import history
from cvi_app.pages.home import home
from cvi_app.pages.insights import insights
from cvi_app.pages.not_found import not_found
from cvi_app.pages.room import room, watch_view
from cvi_app.pages.scenarios import scenarios
from cvi_app.pages.sign_in import sign_in
from cvi_app.pages.visit import visit
from cvi_app.state import AppState
from cvi_app.state.accounts_state import AccountsState
from cvi_app.state.analytics_state import AnalyticsState
from cvi_app.state.audit_state import AuditState
from cvi_app.state.console_state import ConsoleState, WatchState
from cvi_app.state.conversation_state import ConversationState, TimelinePager, TranscriptPager
from cvi_app.state.deployments_state import DeploymentsState
from cvi_app.state.history_state import HistoryState
from cvi_app.state.home_state import HomeState
from cvi_app.state.insights_state import InsightsState
from cvi_app.state.invite_state import GuestState
from cvi_app.state.room_state import RoomState
from cvi_app.state.scenarios_state import ScenariosState
from cvi_app.state.sign_in_state import SignInState
from cvi_app.state.visit_state import VisitState

app = rx.App(
    head_components=[storage_fallback()],
    # Sonner's rich colours put green text on pale green at 4.25:1 (axe asks 4.5:1).
    toaster=rx.toast.provider(rich_colors=False),
)
install_backend(app)
app.add_page(home, route="/", title="CVI Studio", on_load=[AppState.load_mode, HomeState.load])
app.add_page(
    room,
    route="/room/[conversation_id]",
    title="CVI Studio: room",
    on_load=[AppState.load_mode, RoomState.load],
)
if dev_pages_enabled(get_settings()):
    app.add_page(
        component_demo,
        route=DEV_ROUTE,
        title="CVI Studio: call components",
        on_load=AppState.load_mode,
    )
app.add_page(
    history,
    route="/history",
    title="CVI Studio: history",
    on_load=[AppState.load_mode, HistoryState.load],
)
app.add_page(
    conversation,
    route="/history/[conversation_id]",
    title="CVI Studio: conversation",
    on_load=[
        AppState.load_mode,
        ConversationState.load,
        TranscriptPager.load,
        TimelinePager.load,
        AnalyticsState.load,
    ],
)
app.add_page(
    console,
    route="/console",
    title="CVI Studio: console",
    on_load=[AppState.load_mode, ConsoleState.watch],
)
app.add_page(
    watch_view,
    route="/console/[conversation_id]",
    title="CVI Studio: watching a conversation",
    on_load=[AppState.load_mode, RoomState.load, WatchState.announce],
)
app.add_page(
    insights,
    route="/insights",
    title="CVI Studio: insights",
    on_load=[AppState.load_mode, InsightsState.load],
)
app.add_page(
    scenarios,
    route="/scenarios",
    title="CVI Studio: scenario runs",
    on_load=[AppState.load_mode, ScenariosState.load],
)
app.add_page(
    sign_in,
    route="/sign-in",
    title="CVI Studio: sign in",
    on_load=[AppState.load_mode, SignInState.load],
)
app.add_page(
    accounts,
    route="/accounts",
    title="CVI Studio: accounts",
    on_load=[AppState.load_mode, AccountsState.load],
)
app.add_page(
    audit,
    route="/audit",
    title="CVI Studio: audit log",
    on_load=[AppState.load_mode, AuditState.load],
)
app.add_page(
    deployments,
    route="/deployments",
    title="CVI Studio: public pages",
    on_load=[AppState.load_mode, DeploymentsState.load],
)
app.add_page(
    visit, route="/p/[slug]", title="Talk with us", on_load=[AppState.load_mode, VisitState.load]
)
app.add_page(
    guest,
    route="/guest",
    title="Join the conversation",
    on_load=[AppState.load_mode, GuestState.load],
)
app.add_page(not_found, route="404", title="CVI Studio: page not found", on_load=AppState.load_mode)
