"""The device check's test app: one page with `device_check(...)` (see test_device_check.py)."""

import reflex as rx

config = rx.Config(
    app_name="device_check_app",
    telemetry_enabled=False,
    show_built_with_reflex=False,
    plugins=[
        rx.plugins.RadixThemesPlugin(theme=rx.theme(accent_color="indigo", radius="medium")),
    ],
    disable_plugins=[rx.plugins.SitemapPlugin],
)
