"""What every page shares: the mode the backend runs in."""

import reflex as rx

from cvi_app.config import get_settings


class AppState(rx.State):
    """Backend facts every page shows (never secrets)."""

    mode: str = ""

    @rx.event
    def load_mode(self) -> None:
        """Read the mode (sandbox or tavus) from the backend's settings."""
        self.mode = get_settings().mode
