"""The support panel example: a shop's product page with a replica that knows its orders."""

import reflex as rx

config = rx.Config(
    app_name="support_panel",
    telemetry_enabled=False,
    show_built_with_reflex=False,
    plugins=[rx.plugins.RadixThemesPlugin(theme=rx.theme(accent_color="grass"))],
    disable_plugins=[rx.plugins.SitemapPlugin],
)
