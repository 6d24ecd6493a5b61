"""Reflex configuration. Any value here can be overridden with a `REFLEX_*` variable
(for example `REFLEX_DB_URL=postgresql+psycopg://...`)."""

import reflex as rx

config = rx.Config(
    app_name="cvi_app",
    telemetry_enabled=False,
    db_url="sqlite:///cvi_studio.db",
    plugins=[rx.plugins.RadixThemesPlugin(), rx.plugins.SitemapPlugin()],
)
