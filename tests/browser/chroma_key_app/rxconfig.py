"""The chroma key's test app: `ChromaKeyVideo` over a synthetic track (see test_chroma_key.py)."""

import reflex as rx

config = rx.Config(
    app_name="chroma_key_app",
    telemetry_enabled=False,
    show_built_with_reflex=False,
    plugins=[
        rx.plugins.RadixThemesPlugin(theme=rx.theme(accent_color="indigo", radius="medium")),
    ],
    disable_plugins=[rx.plugins.SitemapPlugin],
)
