"""An intervention's reads, checks and writes as one block of statements
(`forum.db.one_trip`), for a group commit on SQLite (`forum.db.grouped_blocks`).

The block does what `speaking.do_intervene` does inside its transaction: the room (not
found refuses), the speaker's role in its group, the seat held by that standing, the
open session's format, the rules of `check_intervene` (observer, session open, floor),
then the room's next `seq` and the event row. A meeting's room, or a seat that only an
access window may give, is not read here: the block writes nothing and answers None,
and the action takes its own transaction (`do_intervene`'s general path).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select, update

from forum.actions.room_state import turn_of_floor
from forum.db.base import utcnow
from forum.db.models import Membership, Room, RoomEvent, RoomSession
from forum.db.one_trip import Block, Statements
from forum.domain import speaking as rules
from forum.domain.seats import seats_for
from forum.domain.sessions import SessionFormat, can_chair
from forum.domain.speaking import Turn
from forum.domain.vocabulary import Role, Seat
from forum.errors import N_, ErrorCode, ForumError
from forum.wire.events import Intervention

_rooms, _members, _sessions, _events = (
    cast(Table, model.__table__) for model in (Room, Membership, RoomSession, RoomEvent)
)

_ROOM = select(_rooms.c.group_id, _rooms.c.open_session_id, _rooms.c.floor).where(
    _rooms.c.id == bindparam("room_id")
)
_ROLE = select(_members.c.role).where(
    _members.c.group_id == bindparam("group_id"), _members.c.user_id == bindparam("user_id")
)
_FORMAT = select(_sessions.c.format).where(_sessions.c.id == bindparam("session_id"))
_BUMP = (
    update(_rooms)
    .where(_rooms.c.id == bindparam("room_id"))
    .values(last_seq=_rooms.c.last_seq + 1)
    .returning(_rooms.c.last_seq)
)
_EVENT_FIELDS = ("room_id", "seq", "session_id", "type", "op", "data", "actor_id", "created_at")
_INSERT_EVENT = (
    insert(_events)
    .values({name: bindparam(name) for name in _EVENT_FIELDS})
    .returning(_events.c.id)
)


@dataclass(frozen=True)
class Speaker:
    """What the block needs of the speaker, read on the event loop before."""

    user_id: int
    name: str
    family: str
    is_secretariat: bool


def intervention_data(speaker: Speaker, seat: Seat, text: str, turn: Turn | None) -> Intervention:
    """The event's data, on either path: who spoke, from which seat, and whether on the floor."""
    return {
        "user_id": speaker.user_id,
        "name": speaker.name,
        "family": speaker.family,
        "seat": seat.value,
        "body": text,
        "on_floor": turn is not None and turn.user_id == speaker.user_id,
    }


def intervene_block(
    room_id: int, speaker: Speaker, seat: Seat, body: str
) -> Block[RoomEvent | None]:
    def block(statements: Statements) -> RoomEvent | None:
        rooms = statements.rows(_ROOM, {"room_id": room_id})
        if not rooms:
            raise ForumError(ErrorCode.NOT_FOUND, N_("No such room."))
        group_id, session_id, floor = rooms[0]
        if group_id is None:
            return None  # a meeting's room: its people are read by the general path
        roles = statements.rows(_ROLE, {"group_id": group_id, "user_id": speaker.user_id})
        role = Role(roles[0][0]) if roles else None
        if seat not in seats_for(role, is_secretariat=speaker.is_secretariat):
            return None  # an access window, or a seat revoked: the general path
        formats = (
            statements.rows(_FORMAT, {"session_id": session_id}) if session_id is not None else []
        )
        turn = turn_of_floor(floor)
        now = utcnow()
        text = rules.check_intervene(
            seat,
            SessionFormat(formats[0][0]) if formats else SessionFormat.OPEN_DEBATE,
            user_id=speaker.user_id,
            is_chair=can_chair(role, is_secretariat=speaker.is_secretariat),
            session_open=bool(formats),
            turn=turn,
            now=now,
            body=body,
        )
        data = intervention_data(speaker, seat, text, turn)
        (seq,) = statements.rows(_BUMP, {"room_id": room_id})[0]
        columns: dict[str, Any] = {
            "room_id": room_id,
            "seq": seq,
            "session_id": session_id,
            "type": "intervention",
            "op": "post",
            "data": data,
            "actor_id": speaker.user_id,
            "created_at": now,
        }
        (event_id,) = statements.rows(_INSERT_EVENT, columns)[0]
        return RoomEvent(id=event_id, **columns)

    return block
