"""What each studio page needs of the person who opens it (see `Caller.may`).

Pages not listed (sign-in, not found, the public pages) need nothing. The pages only use this
to send people where they can go; every handler checks again on its own.
"""

from __future__ import annotations

from cvi_app.access.caller import Caller, Permission

__all__ = ["PAGE_PERMISSIONS", "page_refusal"]

PAGE_PERMISSIONS: dict[str, Permission] = {
    "/": "drive",
    "/room/[conversation_id]": "drive",
    "/console": "drive",
    "/console/[conversation_id]": "drive",
    "/history": "read",
    "/history/[conversation_id]": "read",
    "/insights": "read",
    "/scenarios": "read",
    "/deployments": "drive",
    "/accounts": "admin",
    "/audit": "admin",
}


def page_refusal(route: str, caller: Caller) -> str | None:
    """Where to send a caller who may not open `route`, or None if they may.

    `route` is the page's route pattern as Reflex names it (`/room/[conversation_id]`; the home
    page is `/index`).

    Signed out: the sign-in page; signed in without the role: the first page the role opens.
    """
    need = PAGE_PERMISSIONS.get("/" if route in ("/index", "index") else route)
    if need is None or not caller.accounts_on or caller.may(need):
        return None  # without accounts every page opens; its handlers check the browser
    if caller.needs_sign_in:
        return "/sign-in"
    return "/history" if caller.may("read") and need != "read" else "/sign-in"
