"""What the tests of SQLite's grouped writes share: a writer cancelled once its group
has begun, and the wait for what its committed write still publishes."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from forum.db.engine import writer_lock
from forum.db.grouped_blocks import block_groups
from tests.capture import Events


async def cancel_once_grouped(
    engine: AsyncEngine, write: Callable[[], Awaitable[None]], heard: Events
) -> None:
    """Start `write` with the writer lock held here, so that its group is taken and
    waits; cancel the writer then; wait until `heard` has something (or 2 s)."""
    async with writer_lock(engine):
        writer = asyncio.ensure_future(write())
        for _ in range(200):
            groups = block_groups(engine)
            if (
                groups is not None
                and groups.groups._task is not None
                and not groups.groups._pending
            ):
                break
            await asyncio.sleep(0.01)
        else:
            raise AssertionError("the group did not begin")
        writer.cancel()
        with pytest.raises(asyncio.CancelledError):
            await writer
    for _ in range(200):
        if heard.messages:
            break
        await asyncio.sleep(0.01)
