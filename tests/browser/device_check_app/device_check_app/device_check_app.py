"""One page: the device check, what its triggers reported, and a switch for `enabled`.

Run by tests/browser/test_device_check.py from a copy of this folder, with the repository on
`PYTHONPATH` (for `cvi_app.components.device_check`).
"""

from __future__ import annotations

import json
from typing import Any

import reflex as rx

from cvi_app.components.device_check import device_check


class CheckState(rx.State):
    """What the device check told the server."""

    devices: dict[str, Any] = {}
    problems: list[str] = []
    changes: int = 0
    enabled: bool = True

    @rx.event
    def set_devices(self, devices: dict[str, Any]):
        """Keep the latest on_change report."""
        self.devices = devices
        self.changes += 1

    @rx.event
    def add_problem(self, kind: str, message: str):
        """Keep each on_problem report."""
        self.problems.append(f"{kind} {message}")

    @rx.event
    def toggle(self):
        """Turn the check off or on."""
        self.enabled = not self.enabled

    @rx.var
    def reported(self) -> str:
        """The latest report as JSON (what the test reads)."""
        return json.dumps(self.devices, sort_keys=True)


def index() -> rx.Component:
    """The page under test."""
    return rx.el.main(
        rx.heading("Before you join", as_="h1", size="6"),
        device_check(
            id="device-check",
            enabled=CheckState.enabled,
            on_change=CheckState.set_devices,
            on_problem=CheckState.add_problem,
        ),
        rx.button(rx.cond(CheckState.enabled, "Turn off", "Turn on"), on_click=CheckState.toggle),
        rx.el.pre(
            CheckState.reported,
            id="reported",
            data_changes=CheckState.changes,
            style={"white_space": "pre-wrap", "overflow_wrap": "anywhere"},
        ),
        rx.el.ul(rx.foreach(CheckState.problems, rx.el.li), id="problems"),
        style={
            "display": "grid",
            "gap": "var(--space-4)",
            "padding": "var(--space-4)",
            "max_width": "480px",
            "margin": "0 auto",
        },
    )


app = rx.App()
app.add_page(index, route="/", title="Device check")
