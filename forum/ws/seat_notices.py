"""A change of someone's standing, applied to their connections on this worker.

The membership action has already changed the seats in the database and told the
room; its notice on the person's user channel (`actions.standing`) names each of their
connections in the room with the seat it now holds, or none. A connection whose seat
ended leaves the room here at once and hears `left`; one that moved hears `seat`.
Connections opened after the change are not named, and keep the seat they took.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from forum.broker import Message
from forum.domain.vocabulary import Seat
from forum.wire.events import SeatNotice

if TYPE_CHECKING:
    from forum.ws.hub import Hub


def apply_seat_notice(hub: Hub, user_id: int, message: Message) -> None:
    notice = cast(SeatNotice, message)
    seats = notice.get("connections") or {}
    room_id = int(notice["room"])
    for connection in list(hub.users.get(user_id, ())):
        if connection.id not in seats or connection.room_id != room_id:
            continue
        seat = seats[connection.id]
        if seat is None:
            # Out of the fan-out now, not when the task below runs: no later event of
            # the room reaches someone no longer allowed in it.
            connection.seat = None
            fanout = hub.rooms.get(room_id)
            if fanout is not None:
                fanout.connections.discard(connection)
            connection.push({"type": "left", "room": room_id, "reason": notice.get("op")})
            hub.spawn(hub.leave(connection))
            continue
        connection.seat = Seat(seat)
        connection.push(
            {
                "type": "seat",
                "room": room_id,
                "seat": seat,
                "role": notice.get("role"),
                "chair": bool(notice.get("chair")),
                "reason": notice.get("op"),
            }
        )
