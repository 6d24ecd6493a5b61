"""The Reflex app: theme, pages and the extra HTTP routes served beside Reflex's own."""

import reflex as rx

from cvi_app import styles
from cvi_app.pages.home import home
from cvi_app.state import AppState

app = rx.App(
    theme=rx.theme(accent_color=styles.ACCENT, radius="medium"),
)
app.add_page(home, route="/", title="CVI Studio", on_load=AppState.load_mode)
