"""Reflex configuration. Any value here can be overridden with a `REFLEX_*` variable
(for example `REFLEX_DB_URL=postgresql+psycopg://...`)."""

import reflex as rx

config = rx.Config(
    app_name="cvi_app",
    telemetry_enabled=False,
    # In a hidden folder: the dev server reloads on changes to files in the app root.
    db_url="sqlite:///.data/cvi_studio.db",
    plugins=[
        rx.plugins.RadixThemesPlugin(theme=rx.theme(accent_color="indigo", radius="medium")),
        rx.plugins.SitemapPlugin(),
    ],
)
