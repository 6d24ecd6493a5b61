"""The visitor call's test app: one page with `visitor_call(...)` (see test_visitor_call.py)."""

import reflex as rx

config = rx.Config(
    app_name="visitor_call_app",
    telemetry_enabled=False,
    show_built_with_reflex=False,
    plugins=[
        rx.plugins.RadixThemesPlugin(theme=rx.theme(accent_color="indigo", radius="medium")),
    ],
    disable_plugins=[rx.plugins.SitemapPlugin],
)
