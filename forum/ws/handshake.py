"""What `/ws` checks once a connection is let in: the caps (the Origin is checked before,
by `forum.origins`, for HTTP and WebSocket alike).

The endpoint calls `admit` right after accepting, once it knows who is connecting, and
releases what it returns when the connection ends; a connection over a cap is closed
with CLOSE_TOO_MANY_CONNECTIONS and a reason naming the cap, and logged.
"""

from __future__ import annotations

from starlette.websockets import WebSocket

from forum.audit import log_refusal
from forum.connection_caps import Admission
from forum.errors import ForumError
from forum.state import AppState
from forum.ws.protocol import CLOSE_TOO_MANY_CONNECTIONS


async def admit(
    websocket: WebSocket,
    state: AppState,
    *,
    address: str,
    user_id: int | None,
    origin: str | None,
    path: str,
) -> Admission | None:
    """The connection's slots, or None once it has been closed for being over a cap."""
    try:
        return await state["connection_caps"].admit(address=address, user_id=user_id)
    except ForumError as error:
        log_refusal(
            str(error.code),
            ip=address,
            origin=origin,
            user_id=user_id,
            path=path,
            detail=str(error.extra.get("cap")),
        )
        # The reason is ASCII and well under the 123 bytes a close frame allows.
        await websocket.close(CLOSE_TOO_MANY_CONNECTIONS, error.message)
        return None
