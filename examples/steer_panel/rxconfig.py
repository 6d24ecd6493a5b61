"""The steer panel example: a developer drives the replica from Python, with the controls."""

import reflex as rx

config = rx.Config(
    app_name="steer_panel",
    telemetry_enabled=False,
    show_built_with_reflex=False,
    plugins=[rx.plugins.RadixThemesPlugin(theme=rx.theme(accent_color="iris"))],
    disable_plugins=[rx.plugins.SitemapPlugin],
)
