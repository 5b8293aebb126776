"""A change to what every board's pages show besides their posts: the counters move.

A thread's page and its JSON are kept per board `seq` (`forum/board_versions.py`,
`forum/web/thread_render.py`), and they show more than the board's own rows: each
author's public details, the groups' names, the action line's title. When one of those
changes, the boards it may appear on take their next `seq` in the same transaction and
announce it after commit, so that no worker goes on serving the old names. A person
may have written on any board and a group may sign on any, so those bump them all;
renames are rare, and a board nobody wrote on has no row and nothing kept.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from forum.actions.outbox import publish
from forum.actions.posts import board_channel
from forum.broker import Broker
from forum.db.models import Board
from forum.wire.streams import BoardRenamed

Bumped = list[tuple[int, int]]
"""(action line id, its board's new seq), to announce after commit."""


async def bump_boards(session: AsyncSession, action_line_id: int | None = None) -> Bumped:
    """Inside the write transaction: every board's next `seq` (or one board's)."""
    bump = update(Board).values(last_seq=Board.last_seq + 1)
    if action_line_id is not None:
        bump = bump.where(Board.action_line_id == action_line_id)
    rows = await session.execute(bump.returning(Board.action_line_id, Board.last_seq))
    return [(int(line_id), int(seq)) for line_id, seq in rows]


async def announce(broker: Broker, bumped: Bumped) -> None:
    """After commit: each board's new `seq`, for the workers that keep its pages."""
    for line_id, seq in bumped:
        message: BoardRenamed = {"type": "renamed", "seq": seq}
        await publish(broker, board_channel(line_id), message)
