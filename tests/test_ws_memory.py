"""What a live-room connection holds for its life: no layer of the HTTP stack, nothing
of its handshake (`forum.app.Forum`, `forum.ws.direct_send.release_handshake`). Real
uvicorn servers, real `websockets` clients; what is held is read off the server's own
objects: the coroutines its connection task waits in, the protocol object, the scope.
"""

from __future__ import annotations

import asyncio
from types import CoroutineType
from typing import Any

import httpx
import pytest
from starlette.middleware.errors import ServerErrorMiddleware
from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.routing import Router
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from forum.app import Forum
from forum.ws.connection import Connection
from forum.ws.direct_send import RAW_SEND, Flag, Inbound
from tests.people import person
from tests.rooms_support import peer
from tests.support import LiveServer


def waiting_in(task: asyncio.Task[Any]) -> list[str]:
    """The coroutines `task` is suspended in, outermost first."""
    names: list[str] = []
    coro: Any = task.get_coro()
    while isinstance(coro, CoroutineType):
        names.append(coro.cr_code.co_qualname)
        coro = coro.cr_await
    return names


def connection_tasks(server: LiveServer) -> list[list[str]]:
    return [waiting_in(task) for task in server.server.server_state.tasks if not task.done()]


def only_connection(server: LiveServer) -> Connection:
    (connection,) = server.state["hub"].connections
    assert isinstance(connection, Connection)
    return connection


async def test_a_websocket_scope_passes_through_none_of_the_http_layers(
    sqlite_server: LiveServer,
) -> None:
    classes: tuple[Any, ...] = (
        ServerErrorMiddleware,
        ExceptionMiddleware,
        Router,
        *(middleware.cls for middleware in sqlite_server.app.user_middleware),
    )
    http_layers = {f"{cls.__qualname__}.__call__" for cls in classes}
    member = await person(sqlite_server, role="member")
    async with peer(sqlite_server, member) as p:
        assert (await p.call({"type": "ping"}))["type"] == "pong"
        (chain,) = [c for c in connection_tasks(sqlite_server) if "room_endpoint" in c]
        assert not http_layers & set(chain), chain
        # The server's task, its proxy-headers layer, the dispatch, then the endpoint's
        # receive loop down to uvicorn's queue: nothing in between.
        assert chain[chain.index("Forum.__call__") + 1] == "room_endpoint", chain
        # HTTP still goes through every layer: the headers they add are there.
        async with httpx.AsyncClient(base_url=sqlite_server.url, trust_env=False) as http:
            response = await http.get("/healthz")
        assert response.headers["x-content-type-options"] == "nosniff"


async def test_a_live_connection_keeps_nothing_of_its_handshake(
    sqlite_server: LiveServer,
) -> None:
    member = await person(sqlite_server, role="member")
    async with peer(sqlite_server, member) as p:
        assert (await p.call({"type": "ping"}))["type"] == "pong"
        websocket = only_connection(sqlite_server).websocket
        assert websocket.scope["headers"] == ()
        # The lifespan's state itself, not a copy of it for each connection.
        app = sqlite_server.app
        assert isinstance(app, Forum)
        assert websocket.scope["state"] is app.shared_state is not None
        # Starlette's caches of the headers and the URL were never filled on it.
        assert not {"_headers", "_url", "_cookies"} & set(vars(websocket))
        protocol = websocket.scope[RAW_SEND].__self__
        assert protocol.handshake_complete
        assert not hasattr(protocol, "request")
        # Nor has the parser, which holds the request, kept its headers.
        parser = protocol.conn.parser
        assert not parser.gi_frame.f_locals["request"].headers
        assert not hasattr(protocol, "response")
        # Its queue and its event are lists made only while something waits.
        assert isinstance(protocol.queue, Inbound)
        assert isinstance(protocol.writable, Flag)
        # And the connection works on: the ping of the server's keepalive, a frame.
        assert (await p.call({"type": "ping"}))["type"] == "pong"


@pytest.mark.parametrize("path", ["/", "/wss", "/ws/", "/api/boards"])
async def test_a_websocket_to_any_other_path_gets_403(sqlite_server: LiveServer, path: str) -> None:
    with pytest.raises(InvalidStatus) as caught:
        async with connect(
            sqlite_server.ws_url + path, additional_headers={"Origin": sqlite_server.origin}
        ):
            pass
    assert caught.value.response.status_code == 403
