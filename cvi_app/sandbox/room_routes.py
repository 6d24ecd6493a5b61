"""The room routes: `/rooms/{conversation_id}` (a page) and `/rooms/{conversation_id}/ws`."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.websockets import WebSocket

from cvi_app.sandbox.room_page import render_room_page
from cvi_app.sandbox.room_socket import serve_room_socket
from cvi_app.sandbox.rooms import RoomHub

__all__ = ["room_routes"]


def room_routes(hub: RoomHub) -> list[BaseRoute]:
    """Routes that serve the hub's rooms to browsers and WebSocket clients.

    Args:
        hub: The rooms of this process.

    Returns:
        `GET /rooms/{conversation_id}` and `WebSocket /rooms/{conversation_id}/ws`; both refuse a
        client without the meeting token (`?t=`) of a private room.
    """

    async def page(request: Request) -> HTMLResponse:
        conversation_id = request.path_params["conversation_id"]
        room = hub.get(conversation_id)
        if room is None:
            return HTMLResponse(
                "<!doctype html><title>Room not found</title>"
                "<p>No such room, or its conversation has ended.</p>",
                status_code=404,
            )
        if not room.admits(request.query_params.get("t")):
            # The socket refuses such a client anyway; the page says so and shows nothing of it.
            return HTMLResponse(
                "<!doctype html><title>Not allowed</title>"
                "<p>This room is private: open it with the meeting link you were given.</p>",
                status_code=401,
            )
        return HTMLResponse(render_room_page(conversation_id))

    async def socket(websocket: WebSocket) -> None:
        await serve_room_socket(websocket, hub)

    return [
        Route("/rooms/{conversation_id}", page, methods=["GET"]),
        WebSocketRoute("/rooms/{conversation_id}/ws", socket),
    ]
