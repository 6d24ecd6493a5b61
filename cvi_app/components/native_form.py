"""A form the browser itself posts (no Reflex event), and the backend's origin.

Signing in and out must reach an HTTP route (only a response can set an HttpOnly cookie);
Reflex's own form always stops the browser's submit to run an event instead.
"""

import reflex as rx
from reflex_base.vars.base import Var
from reflex_components_core.el.elements.base import BaseHTML

__all__ = ["BACKEND_ORIGIN", "native_form"]

# The backend's origin as the browser reaches it (in development the frontend has its own port).
BACKEND_ORIGIN = rx.Var(
    _js_expr="getBackendURL(env.PING).origin",
    _var_data=rx.vars.VarData(
        imports={
            "$/utils/state": "getBackendURL",
            "$/env.json": rx.ImportVar(tag="env", is_default=True),
        }
    ),
).to(str)


class NativeForm(BaseHTML):
    """A plain HTML `<form>` posted by the browser."""

    tag = "form"
    action: Var[str]
    method: Var[str]


def native_form(*children: rx.Component, path: str, **props) -> rx.Component:
    """A form the browser posts, url-encoded, to the backend route at `path`.

    The prerendered page has no window to find the backend from, and hydration keeps the
    prerendered attribute: the backend's origin is filled in once the page's state has loaded
    (until then the path alone, right wherever one port serves both).
    """
    from cvi_app.state import AppState

    action = rx.cond(AppState.mode != "", BACKEND_ORIGIN + path, path)
    return NativeForm.create(*children, action=action, method="post", **props)
