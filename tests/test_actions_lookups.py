"""Actions find what a request names inside their own transaction, on SQLite and
PostgreSQL: a room by its id or its group's slug, a group by its slug. What they cannot
find is refused as the handlers refused it before (the same code, message and field),
with nothing written and nothing published."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from forum.actions.access_windows import do_remove_window, do_set_window
from forum.actions.accounts import do_register
from forum.actions.floor_time import do_set_budgets
from forum.actions.groups import do_join_group, do_leave_group, do_set_member_role
from forum.actions.positions import do_cosign, do_withdraw_cosignature
from forum.actions.posts import do_open_thread, do_reply
from forum.actions.room_reads import room_for
from forum.actions.rooms import SessionDraft, do_close_session, do_open_session, do_schedule_session
from forum.actions.seats import do_set_observer_policy
from forum.actions.session_edits import do_edit_session
from forum.broker.memory import MemoryBroker
from forum.db.base import Base
from forum.db.models import Group, Room, RoomSession, User
from forum.domain.access_windows import AfterWindow, WindowSpec
from forum.domain.sessions import SessionFormat
from forum.domain.vocabulary import Role, Seat
from forum.errors import ErrorCode, ForumError
from forum.limits import MemoryRateLimiter, PostThrottle
from tests.capture import EventCapture, Events
from tests.factory import GROUP, add_role, registration

START = datetime(2005, 11, 16, 9, tzinfo=UTC)
WINDOW = WindowSpec(
    length=timedelta(minutes=15),
    seat=Seat.PARTICIPANT,
    after=AfterWindow.OUT,
    offset=timedelta(minutes=15),
)
DRAFT = SessionDraft("Sitting", "", START, START + timedelta(hours=3), SessionFormat.STATEMENTS)


class Lookups:
    """The broker the actions publish on, and every row of every table, to compare."""

    def __init__(self, session: AsyncSession, capture_events: EventCapture) -> None:
        self.session = session
        self.broker = MemoryBroker()
        self.capture_events = capture_events

    def published(self, expected: int | None) -> AbstractAsyncContextManager[Events]:
        """What the actions of the block publish, on any channel: `expected` messages."""
        return self.capture_events(self.broker, anywhere=True, expected=expected)

    async def counts(self) -> dict[str, int]:
        counts = {}
        for table in Base.metadata.sorted_tables:
            counts[table.name] = int(
                await self.session.scalar(select(func.count()).select_from(table)) or 0
            )
        await self.session.commit()
        return counts

    async def refused(
        self, action: Awaitable[Any], code: ErrorCode, message: str, field: str | None = None
    ) -> None:
        before = await self.counts()
        async with self.published(expected=0):
            with pytest.raises(ForumError) as error:
                await action
        assert (error.value.code, error.value.message, error.value.field) == (code, message, field)
        assert await self.counts() == before


@pytest.fixture
async def chair(session: AsyncSession) -> User:
    user = await do_register(session, registration("chair@example.org", "government"))
    async with session.begin():
        await add_role(session, user.id, Role.CHAIR)
    # Detached, as the signed-in user handed to an action is (read by another session):
    # the rollback of a refusal does not expire it.
    session.expunge(user)
    return user


@pytest.fixture
def lookups(session: AsyncSession, capture_events: EventCapture) -> Lookups:
    return Lookups(session, capture_events)


def throttle() -> PostThrottle:
    return PostThrottle(MemoryRateLimiter(), 100, 60)


def no_group(slug: str) -> str:
    return f"No group '{slug}'."


# Every action given a group's slug, called on a slug no group has.
BY_SLUG: dict[str, Callable[[AsyncSession, MemoryBroker, User], Awaitable[Any]]] = {
    "join": lambda s, b, u: do_join_group(s, b, user=u, slug="no-such-group"),
    "leave": lambda s, b, u: do_leave_group(s, b, user=u, slug="no-such-group"),
    "set role": lambda s, b, u: do_set_member_role(
        s, b, actor=u, slug="no-such-group", user_id=u.id, role=Role.MEMBER
    ),
    "schedule": lambda s, b, u: do_schedule_session(s, b, "no-such-group", user=u, draft=DRAFT),
    "edit": lambda s, b, u: do_edit_session(
        s, b, "no-such-group", user=u, session_id=1, draft=DRAFT
    ),
    "open": lambda s, b, u: do_open_session(s, b, "no-such-group", user=u, session_id=1),
    "close": lambda s, b, u: do_close_session(s, b, "no-such-group", user=u, session_id=1),
    "observer seats": lambda s, b, u: do_set_observer_policy(
        s, b, "no-such-group", user=u, seats={"civil_society": 1}
    ),
    "budgets": lambda s, b, u: do_set_budgets(
        s, b, "no-such-group", user=u, session_id=1, budgets={"government": 60}
    ),
    # The room is refused before the groups the body names, as when it was read first.
    "set window": lambda s, b, u: do_set_window(
        s, b, "no-such-group", user=u, session_id=1, spec=WINDOW, group_slugs=["nor-this"]
    ),
    "remove window": lambda s, b, u: do_remove_window(s, b, "no-such-group", user=u, window_id=1),
}


@pytest.mark.parametrize("name", BY_SLUG)
async def test_an_unknown_group_is_not_found_by_the_action(
    name: str, session: AsyncSession, lookups: Lookups, chair: User
) -> None:
    action = BY_SLUG[name](session, lookups.broker, chair)
    await lookups.refused(action, ErrorCode.NOT_FOUND, no_group("no-such-group"))


async def test_positions_and_cosignatures_name_the_group_field(
    session: AsyncSession, lookups: Lookups, chair: User
) -> None:
    """The group a post speaks for, or that co-signs one, is a field of the request: its
    refusal names it, so that the form shows it beside the field."""
    broker = lookups.broker
    opened = do_open_thread(
        session, broker, throttle(), user=chair, line_code="C1", title="T", body="B", group="nope"
    )
    await lookups.refused(opened, ErrorCode.NOT_FOUND, no_group("nope"), field="group")
    _thread, post = await do_open_thread(
        session, broker, throttle(), user=chair, line_code="C1", title="T", body="B", group=""
    )
    assert post.post.kind == "comment" and post.post.group_id is None
    post_id, thread_id = post.post.id, post.post.thread_id
    replied = do_reply(
        session, broker, throttle(), user=chair, thread_id=thread_id, body="R", group="x"
    )
    await lookups.refused(replied, ErrorCode.NOT_FOUND, no_group("x"), field="group")
    for action in (do_cosign, do_withdraw_cosignature):
        signed = action(session, broker, user=chair, post_id=post_id, group="nope")
        await lookups.refused(signed, ErrorCode.NOT_FOUND, no_group("nope"), field="group")


async def test_a_position_is_posted_for_the_group_of_the_slug(
    session: AsyncSession, lookups: Lookups, chair: User
) -> None:
    async with lookups.published(expected=2) as published:
        _thread, post = await do_open_thread(
            session,
            lookups.broker,
            throttle(),
            user=chair,
            line_code="C1",
            title="Our word",
            body="B",
            group=GROUP,
        )
    wgig = await session.scalar(select(Group.id).where(Group.slug == GROUP))
    await session.commit()
    assert post.post.kind == "position" and post.post.group_id == wgig
    assert [m["type"] for m in published.events] == ["post", "thread"]


async def test_a_room_is_the_same_by_its_id_or_its_groups_slug(
    session: AsyncSession, lookups: Lookups, chair: User
) -> None:
    async with lookups.published(expected=3) as published:
        row = await do_schedule_session(session, lookups.broker, GROUP, user=chair, draft=DRAFT)
        room_id = await session.scalar(
            select(Room.id).join(Group, Group.id == Room.group_id).where(Group.slug == GROUP)
        )
        await session.commit()
        assert row.room_id == room_id and room_id is not None
        opened = await do_open_session(
            session, lookups.broker, room_id, user=chair, session_id=row.id
        )
        closed = await do_close_session(
            session, lookups.broker, GROUP, user=chair, session_id=row.id
        )
    assert opened.id == closed.id == row.id
    assert [(m["type"], m["op"]) for m in published.events] == [
        ("session", "schedule"),
        ("session", "open"),
        ("session", "close"),
    ]


async def test_a_room_no_row_has_and_a_group_without_one_are_not_found(
    session: AsyncSession, lookups: Lookups, chair: User
) -> None:
    broker = lookups.broker
    by_id = do_schedule_session(session, broker, 2**31 - 1, user=chair, draft=DRAFT)
    await lookups.refused(by_id, ErrorCode.NOT_FOUND, "No such room.")
    by_address = do_schedule_session(
        session, broker, f"meeting:{2**31 - 1}", user=chair, draft=DRAFT
    )
    await lookups.refused(by_address, ErrorCode.NOT_FOUND, "No such room.")
    async with session.begin():
        group_id = await session.scalar(select(Group.id).where(Group.slug == GROUP))
        assert await session.scalar(select(func.count()).select_from(RoomSession)) == 0
        await session.execute(delete(Room).where(Room.group_id == group_id))
    roomless = do_schedule_session(session, broker, GROUP, user=chair, draft=DRAFT)
    await lookups.refused(roomless, ErrorCode.NOT_FOUND, "This group has no room.")
    # Read as a join reads it: the group and its room in one statement, refused alike.
    await lookups.refused(room_for(session, GROUP), ErrorCode.NOT_FOUND, "This group has no room.")
    await lookups.refused(room_for(session, "nowhere"), ErrorCode.NOT_FOUND, no_group("nowhere"))


async def test_a_membership_is_changed_in_the_group_of_the_slug(
    session: AsyncSession, lookups: Lookups, chair: User
) -> None:
    member = await do_register(session, registration("member@example.org", "government"))
    async with lookups.published(expected=None) as published:
        joined = await do_join_group(session, lookups.broker, user=member, slug=GROUP)
        assert joined.role == Role.MEMBER
        await do_set_member_role(
            session, lookups.broker, actor=chair, slug=GROUP, user_id=member.id, role=Role.OBSERVER
        )
        await do_leave_group(session, lookups.broker, user=member, slug=GROUP)
    roles = [m["role"] for m in published.events if m["type"] == "membership"]
    assert roles == ["member", "observer", None]
    assert all(m["group"] == GROUP for m in published.events if m["type"] == "membership")
