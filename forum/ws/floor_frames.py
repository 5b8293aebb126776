"""The frames of the floor's time and equity (docs/protocol.md): the chair pauses and
resumes the speaker, and asks for the open session's equity figures."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from forum.actions.equity_reads import get_live_equity
from forum.actions.floor_time import do_pause_floor, do_resume_floor
from forum.broker import Broker
from forum.db.models import RoomEvent, User
from forum.wire.frames import Equity
from forum.ws.protocol import GetEquity, PauseFloor, ResumeFloor

FloorFrame = PauseFloor | ResumeFloor | GetEquity


async def dispatch_floor(
    frame: FloorFrame, session: AsyncSession, broker: Broker, room_id: int, *, user: User
) -> RoomEvent | Equity:
    """The event a floor frame wrote, or the frame that answers a question."""
    if isinstance(frame, PauseFloor):
        return await do_pause_floor(session, broker, room_id, user=user)
    if isinstance(frame, ResumeFloor):
        return await do_resume_floor(session, broker, room_id, user=user)
    found = await get_live_equity(session, room_id, user=user)
    answer: Equity = {
        "type": "equity",
        "room": room_id,
        "session_id": found["session_id"],
        "seq": found["seq"],
        "equity": found["equity"],
    }
    if frame.ref is not None:
        answer["ref"] = frame.ref
    return answer
