"""The discussion actions' world: a board of the seed (an action line), people in their
roles, and a memory broker whose board and thread channels are recorded. As the rooms'
`World`: `done` and `refused` assert the rows an action wrote and the events it
published together; `follow` that a reader's state (what it read, plus the events it
was sent, each an upsert by id as docs/protocol.md says) equals the state read fresh."""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from forum.actions import post_edits, posts
from forum.actions.posts import board_channel, thread_channel
from forum.broker.memory import MemoryBroker
from forum.db.discussion_views import PostView, ThreadView
from forum.db.discussions_queries import board_seq, get_board_line, list_board, list_thread_posts
from forum.db.engine import end_read
from forum.db.models import Group, User
from forum.errors import ErrorCode, ForumError
from forum.limits import MemoryRateLimiter, PostThrottle
from tests import factory
from tests.capture import Events
from tests.discussions_support import counts

LINE = "C3"
POSITIONS = ("gender-caucus", "media-caucus")  # groups whose chairs speak for them
PEOPLE = {
    # name: (family, (group, role) or None, secretariat)
    "author": ("civil_society", None, False),
    "other": ("private_sector", None, False),
    "coordinator": ("civil_society", ("gender-caucus", "coordinator"), False),
    "signer": ("civil_society", ("media-caucus", "chair"), False),
    "member": ("civil_society", ("media-caucus", "member"), False),
    "secretariat": ("government", None, True),
}


@dataclass
class Reader:
    """What a reader holds: the posts of one thread and the threads of the board, each
    by id, and the last `seq` each stream sent."""

    posts: dict[int, dict[str, Any]] = field(default_factory=dict)
    threads: dict[int, dict[str, Any]] = field(default_factory=dict)
    locked: bool = False
    # The last seq the board's stream sent. Saving a post's text unchanged takes the
    # board's next seq and publishes nothing, so a reader may be behind the counter.
    seq: int = field(default=0, compare=False)

    def apply(self, channel: str, event: dict[str, Any]) -> None:
        if channel.startswith("thread:"):
            if event["type"] == "post":
                self.posts[event["post"]["id"]] = event["post"]
            else:
                self.locked = event["thread"]["locked"]
            return
        assert event["seq"] > self.seq, "the board's events come in order"
        self.seq = event["seq"]
        self.threads[event["thread"]["id"]] = event["thread"]


@dataclass
class Board:
    session: AsyncSession
    broker: MemoryBroker
    line_id: int
    people: dict[str, User]
    groups: dict[str, Group]
    throttle: PostThrottle
    captured: Events = field(default_factory=Events)
    reader: Reader | None = None
    thread_id: int | None = None

    def __getitem__(self, name: str) -> User:
        return self.people[name]

    async def listen(self, thread_id: int) -> None:
        """Record the thread's channel too, from now on."""
        await self.broker.subscribe(thread_channel(thread_id), self.captured)

    def take(self) -> list[tuple[str, dict[str, Any]]]:
        taken = [(channel, dict(message)) for channel, message in self.captured.messages]
        self.captured.messages.clear()
        return taken

    async def rows(self) -> dict[str, Any]:
        """The discussions' rows, read fresh (not from the objects the session holds)."""
        self.session.expunge_all()
        found = await counts(self.session)
        await end_read(self.session)
        return found

    async def refused(self, code: ErrorCode, action: Awaitable[Any]) -> ForumError:
        """`action` is refused with `code`, writes nothing and publishes nothing."""
        before = await self.rows()
        self.take()
        with pytest.raises(ForumError) as caught:
            await action
        assert caught.value.code is code, caught.value
        assert not self.session.in_transaction()
        assert await self.rows() == before
        assert self.take() == []
        return caught.value

    async def done(self, action: Awaitable[Any], *ops: str) -> list[dict[str, Any]]:
        """`action` takes the board's next seq and publishes, with it, one event of
        each `type/op` in `ops` (the thread's channel first, then the board's)."""
        before = await board_seq(self.session, self.line_id)
        await end_read(self.session)
        self.take()
        await action
        events = [dict(event) for _, event in self.captured.messages]
        assert [f"{e['type']}/{e['op']}" for e in events] == list(ops), events
        assert {e["seq"] for e in events} == {before + 1}
        assert await board_seq(self.session, self.line_id) == before + 1
        await end_read(self.session)
        return events

    # -- a reader following the board and one thread -----------------------------------

    async def fresh(self, thread_id: int) -> Reader:
        """What a reader reads now: the thread's posts, the board, their counters."""
        page = await list_thread_posts(self.session, thread_id)
        board = await list_board(
            self.session, await get_board_line(self.session, LINE), cursor=None
        )
        seq = await board_seq(self.session, self.line_id)
        await end_read(self.session)
        wires = [view.wire() for view in page.items]
        return Reader(
            posts={wire["id"]: wire for wire in wires},
            threads={view.thread.id: view.wire() for view in board.items},
            locked=any(view.thread.locked for view in board.items if view.thread.id == thread_id),
            seq=seq,
        )

    async def watch(self, thread_id: int) -> Reader:
        await self.listen(thread_id)
        self.thread_id = thread_id
        self.reader = await self.fresh(thread_id)
        self.take()
        return self.reader

    async def follow(self, action: Awaitable[Any]) -> None:
        """Run `action`, apply what it published to the reader, and assert that the
        reader holds what it would read fresh."""
        assert self.reader is not None and self.thread_id is not None, "watch() first"
        await action
        for channel, event in self.take():
            self.reader.apply(channel, event)
        fresh = await self.fresh(self.thread_id)
        assert self.reader == fresh
        assert self.reader.seq <= fresh.seq

    # -- shorthands --------------------------------------------------------------------

    def open_thread(
        self, who: str = "author", body: str = "Libraries.", group: str | None = None
    ) -> Awaitable[tuple[ThreadView, PostView]]:
        return posts.do_open_thread(
            self.session,
            self.broker,
            self.throttle,
            user=self[who],
            line_code=LINE,
            title="Public access points",
            body=body,
            group=self.groups[group].slug if group else None,
        )

    def reply(
        self, thread_id: int, who: str = "other", body: str = "Agreed.", parent: int | None = None
    ) -> Awaitable[tuple[ThreadView, PostView]]:
        return posts.do_reply(
            self.session,
            self.broker,
            self.throttle,
            user=self[who],
            thread_id=thread_id,
            body=body,
            parent_id=parent,
        )

    def edit(self, post_id: int, who: str = "author", body: str = "Edited.") -> Awaitable[Any]:
        return post_edits.do_edit_post(
            self.session, self.broker, user=self[who], post_id=post_id, body=body
        )

    def delete(self, post_id: int, who: str = "author") -> Awaitable[Any]:
        return post_edits.do_delete_post(self.session, self.broker, user=self[who], post_id=post_id)

    def lock(self, thread_id: int, who: str = "secretariat", locked: bool = True) -> Awaitable[Any]:
        return post_edits.do_lock_thread(
            self.session, self.broker, user=self[who], thread_id=thread_id, locked=locked
        )


async def make_board(session: AsyncSession) -> Board:
    line = await get_board_line(session, LINE)
    groups = {
        group.slug: group
        for group in await session.scalars(select(Group).where(Group.slug.in_(POSITIONS)))
    }
    await end_read(session)
    people = {}
    async with session.begin():
        for name, (family, membership, secretariat) in PEOPLE.items():
            user = await factory.make_user(
                session, family=family, name=name.title(), secretariat=secretariat, password=None
            )
            if membership:
                await factory.add_role(session, user.id, membership[1], membership[0])
            people[name] = user
    session.expunge_all()
    broker = MemoryBroker()
    board = Board(
        session=session,
        broker=broker,
        line_id=line.id,
        people=people,
        groups=groups,
        throttle=PostThrottle(MemoryRateLimiter(), 1000, 60),
    )
    await broker.subscribe(board_channel(line.id), board.captured)
    return board
