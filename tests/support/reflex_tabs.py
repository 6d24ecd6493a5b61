"""The app's Reflex states driven in-process, without a browser.

Events go through Reflex's own event processor (the one the websocket feeds) over an in-memory
state manager, with the real app's pages, states and on_load handlers: a tab "opens" a page with
the `hydrate_and_load` event a browser sends on connect, so the page's on_load handlers run,
background events run as tasks with `async with self`, and `get_state` works as in production.
Each event carries the router data the websocket server gives it: the page's route and dynamic
arguments, and in place of the browser's cookies the `cvi_identity` header the web guard puts
there. What the backend would send each tab (state deltas, toasts, redirects) is kept.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import secrets
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from reflex.istate.manager.memory import StateManagerMemory
from reflex.istate.manager.token import BaseStateToken
from reflex.state import BaseState, State, StateUpdate
from reflex_base.event import Event
from reflex_base.event.processor import BaseStateEventProcessor
from reflex_base.event.processor.future import EventFuture
from reflex_base.utils.format import format_event_handler

from cvi_app.access.web_guard import IDENTITY_COOKIE
from tests.support.servers import WAIT, wait_for

__all__ = ["Backend", "Tab", "running_states"]

S = TypeVar("S", bound=BaseState)

_TOAST = re.compile(r'\?\.\["(?P<level>\w+)"\]\((?P<text>"(?:[^"\\]|\\.)*")')
_VAR_SUFFIX = "_rx_state_"


def _app() -> Any:
    import cvi_app.cvi_app  # the real app: its pages set up the route variables

    return cvi_app.cvi_app.app


@dataclass
class Tab:
    """One browser tab: its Reflex client token, its browser's identity, the page it shows."""

    backend: Backend
    token: str
    identity: str
    path: str = "/"
    cookie: str | None = None
    """The `Cookie` header its events carry (default: the web guard's identity header)."""
    received: list[StateUpdate] = field(default_factory=list)

    def router_data(self) -> dict[str, Any]:
        """What the websocket server attaches to each of this tab's events."""
        route = "/" + (self.backend.app.router(self.path) or "404").removeprefix("/")
        params = {
            name[1:-1]: value
            for name, value in zip(route.split("/"), self.path.split("/"), strict=False)
            if name.startswith("[") and name.endswith("]")
        }
        cookie = self.cookie
        if cookie is None:
            cookie = f"{IDENTITY_COOKIE}={self.identity}" if self.identity else ""
        return {
            "pathname": route,
            "asPath": self.path,
            "query": params,
            "headers": {"cookie": cookie, "origin": "http://localhost:3000"},
            "token": self.token,
            "ip": "127.0.0.1",
            "sid": f"sid-{self.token}",
        }

    async def open(self, path: str) -> EventFuture:
        """Navigate to `path` as a browser does: hydrate, then the page's on_load handlers.

        Returns the future of the whole chain (`wait_all()` it when the page's handlers end;
        the room's stream follows the conversation and ends only with it).
        """
        self.path = path
        hydrate = State.event_handlers["hydrate_and_load"]
        return await self._enqueue(format_event_handler(hydrate), {})

    async def send(self, handler: Any, **payload: Any) -> EventFuture:
        """Send one event from this tab (as a click or a keystroke does).

        `handler` is a state's event handler, as the page names it (`RoomState.respond`).
        """
        return await self._enqueue(format_event_handler(handler), payload)

    async def run(self, handler: Any, **payload: Any) -> None:
        """Send one event and wait until it and every event it chains have finished."""
        await self.finished(await self.send(handler, **payload), what=handler.fn.__qualname__)

    async def finished(self, future: EventFuture, *, what: str = "the event") -> None:
        """Wait until an event and every event it chains have finished (fail if they go on)."""
        try:
            await asyncio.wait_for(future.wait_all(), WAIT)
        except TimeoutError:
            raise AssertionError(f"{what} still running after {WAIT}s") from None

    async def _enqueue(self, name: str, payload: dict[str, Any]) -> EventFuture:
        event = Event(name=name, router_data=self.router_data(), payload=payload)
        return await self.backend.processor.enqueue(self.token, event)

    async def state(self, cls: type[S]) -> S:
        """This tab's instance of a state (the live object: read it, do not change it)."""
        root = await self.backend.manager.get_state(BaseStateToken(ident=self.token, cls=State))
        return await root.get_state(cls)

    async def wait(self, condition: Callable[[], object], what: str) -> None:
        """Wait until `condition` holds (it reads this tab's states or what it was sent)."""
        await wait_for(condition, what=what)

    def deltas(self, cls: type[BaseState], *, since: int = 0) -> list[dict[str, Any]]:
        """The changes of `cls` sent to this tab, in order, with plain var names.

        `since`: only those sent after the first `since` updates (`len(tab.received)` then).
        """
        name = cls.get_full_name()
        return [
            {key.removesuffix(_VAR_SUFFIX): value for key, value in update.delta[name].items()}
            for update in self.received[since:]
            if update.delta.get(name)
        ]

    def sent_json(self) -> str:
        """Everything this tab was sent, as JSON (to look for what it must never see)."""
        return json.dumps(
            [
                {"delta": update.delta, "events": [e.payload for e in update.events]}
                for update in self.received
            ],
            default=str,
        )

    def frontend_events(self, name: str) -> list[Mapping[str, Any]]:
        """The payloads of the frontend events of one kind (`_call_function`, `_redirect`)."""
        return [e.payload for update in self.received for e in update.events if e.name == name]

    def toasts(self, level: str = "error") -> list[str]:
        """The texts of the toasts of one level this tab was told to show."""
        shown = []
        for payload in self.frontend_events("_call_function"):
            match = _TOAST.search(str(payload.get("function", "")))
            if match and match["level"] == level:
                shown.append(json.loads(match["text"]))
        return shown

    def redirects(self) -> list[str]:
        """The paths this tab was sent to."""
        return [str(payload["path"]) for payload in self.frontend_events("_redirect")]


@dataclass
class Backend:
    """Reflex's event processor over an in-memory state manager, recording what tabs are sent."""

    app: Any
    processor: BaseStateEventProcessor
    manager: StateManagerMemory
    errors: list[BaseException] = field(default_factory=list)
    tabs: dict[str, Tab] = field(default_factory=dict)

    def tab(self, identity: str | None = None) -> Tab:
        """A new tab; of a new browser unless `identity` is another tab's (same browser).

        `identity=""` is a browser that proved no owner identity.
        """
        token = secrets.token_hex(8)
        tab = Tab(self, token, secrets.token_hex(32) if identity is None else identity)
        self.tabs[token] = tab
        return tab

    async def emit_update(self, update: StateUpdate, token: str) -> None:
        """What Reflex's event namespace would send to the tab with `token`."""
        self.tabs[token].received.append(update)


@contextlib.asynccontextmanager
async def running_states() -> AsyncIterator[Backend]:
    """The processor running for the block; tasks still running (streams) stop at its end."""
    app = _app()
    manager = StateManagerMemory()  # type: ignore[abstract]
    processor = BaseStateEventProcessor(
        backend_exception_handler=lambda exc: backend.errors.append(exc),
        graceful_shutdown_timeout=0,
    )
    backend = Backend(app=app, processor=processor, manager=manager)
    with app.set_contexts():
        processor.configure(state_manager=manager, event_namespace=backend)  # type: ignore[arg-type]
        try:
            async with processor:
                yield backend
        finally:
            await manager.close()
