"""`DeviceCheck`: the camera and microphone check a visitor sees before joining a call.

It asks the browser for the camera and microphone, shows the camera (mirrored) and a
microphone level meter, lets the visitor pick the camera, microphone and (where the browser
can) speaker, and says in plain words what is going on. Put it on the page before the call and
turn it off (``enabled=False``) when the call starts, so the call can take the camera::

    from cvi_app.components.device_check import device_check


    class JoinState(rx.State):
        devices: dict = {}
        joining: bool = False

        @rx.event
        def set_devices(self, devices: dict):
            self.devices = devices  # camera_ok, microphone_ok, *_id, problem

        @rx.event
        def log_problem(self, kind: str, message: str):
            ...  # kind: "denied" | "no_devices" | "other"; message: the browser's error


    device_check(
        id="device-check",
        enabled=~JoinState.joining,
        on_change=JoinState.set_devices,
        on_problem=JoinState.log_problem,
    )

`on_change` receives ``{"camera_ok": bool, "microphone_ok": bool, "camera_id": str,
"microphone_id": str, "speaker_id": str, "problem": "" | "denied" | "no_devices" | "other"}``
when the check settles and whenever a choice changes (ids are ``""`` when there is none).
`on_problem` receives ``(kind, message)``, with the browser's error name in ``message`` only
(the visitor reads a plain sentence). The chosen ids also stay in the browser as
``window.__cviDevices = {cameraId, microphoneId, speakerId}`` for the call component.

Accessible names: the video is "Camera preview", the meter (``role="meter"``, 0-100)
"Microphone level", the selects "Camera", "Microphone" and "Speaker"; the status line is
``role="status"``, and "Try again" appears when the browser blocks the devices.
"""

from __future__ import annotations

from typing import Any

import reflex as rx
from reflex.vars.base import Var

from cvi_app.components.daily_call import CALL_SHARED_JS, call_library

__all__ = ["DEVICES_GLOBAL", "DeviceCheck", "device_check"]

DEVICES_GLOBAL = "__cviDevices"
"""`window.__cviDevices`: the chosen `{cameraId, microphoneId, speakerId}` ("" when none)."""


def devices_spec(devices: Var[dict[str, Any]]) -> tuple[Var[dict[str, Any]]]:
    """Event spec: the check's outcome (camera_ok, microphone_ok, *_id, problem)."""
    return (devices,)


def problem_spec(kind: Var[str], message: Var[str]) -> tuple[Var[str], Var[str]]:
    """Event spec: a problem's kind ("denied", "no_devices", "other") and the browser's error."""
    return (kind, message)


class DeviceCheck(rx.Component):
    """The pre-join camera and microphone check (preview, level meter, device choices)."""

    library = call_library("device_check.jsx", CALL_SHARED_JS)
    tag = "DeviceCheck"

    enabled: rx.Var[bool]
    """Whether to use the devices (default True); False stops every track and shows one line."""

    on_change: rx.EventHandler[devices_spec]
    """The check settled, or a choice changed: the devices dict."""
    on_problem: rx.EventHandler[problem_spec]
    """The devices could not be used: `(kind, message)`."""


device_check = DeviceCheck.create
