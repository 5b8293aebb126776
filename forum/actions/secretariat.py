"""Appointing the secretariat, which keeps the structure (groups, memberships, bureaus).

On a fresh install nobody can appoint anybody through the forum: the first secretariat
account is made from the shell (`python run.py create-secretariat EMAIL`), which calls
these actions. Later ones are appointed the same way.

The secretariat keeps the structure from its pages (`web/pages_secretariat*.py`) and
the API through the actions below: groups and their rooms, action lines, and the
changes of stakeholder family people ask for. Memberships and roles go through
`actions.groups.do_set_member_role`, which checks paragraph 27a.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from forum.actions.accounts import Registration, do_register
from forum.actions.board_refresh import Bumped, announce, bump_boards
from forum.broker import Broker
from forum.db.base import utcnow
from forum.db.engine import write_transaction
from forum.db.models import ActionLine, FamilyRequest, Group, GroupActionLine, Room, User
from forum.db.queries import get_action_line, get_group, get_user_by_email, require_group
from forum.domain.regions import REGIONS
from forum.domain.structure import (
    check_facilitators,
    check_family,
    check_keep_structure,
    check_kind,
    check_slug,
)
from forum.domain.textcheck import clean_body, clean_line
from forum.errors import N_, ErrorCode, ForumError
from forum.passwords import Hasher


async def do_appoint_secretariat(session: AsyncSession, email: str) -> User:
    """Make an existing account a member of the secretariat (idempotent)."""
    async with write_transaction(session):
        user = await get_user_by_email(session, email)
        if user is None:
            raise ForumError(
                ErrorCode.NOT_FOUND,
                N_("No account has the email {email}."),
                field="email",
                params={"email": email},
            )
        if not user.is_active:
            raise ForumError(
                ErrorCode.CONFLICT, N_("This account is deactivated; it cannot be appointed.")
            )
        user.is_secretariat = True
    return user


async def do_create_secretariat(
    session: AsyncSession, registration: Registration, *, passwords: Hasher | None = None
) -> User:
    """A new account, appointed to the secretariat as it is made."""
    user = await do_register(session, registration, passwords=passwords)
    return await do_appoint_secretariat(session, user.email)


@dataclass(frozen=True)
class GroupFields:
    """What the secretariat writes of a group; `kind` and `family` only when it is
    made, since seats and bureaus (paragraph 27a) depend on them."""

    name: str
    description: str
    region: str | None
    action_lines: tuple[str, ...]


def check_group_fields(
    *, name: str, description: str, region: str, action_lines: Sequence[str]
) -> GroupFields:
    region = region.strip()
    if region and region not in REGIONS:
        raise ForumError(ErrorCode.VALIDATION, N_("Unknown region."), field="region")
    return GroupFields(
        name=clean_line(name, field="name"),
        description=clean_body(description, field="description", required=False, trim=True),
        region=region or None,
        action_lines=tuple(dict.fromkeys(code.strip() for code in action_lines if code.strip())),
    )


async def _link_action_lines(session: AsyncSession, group: Group, codes: Sequence[str]) -> None:
    lines = {
        line.code: line
        for line in (await session.scalars(select(ActionLine).where(ActionLine.code.in_(codes))))
    }
    unknown = [code for code in codes if code not in lines]
    if unknown:
        raise ForumError(
            ErrorCode.VALIDATION,
            N_("No action line or theme '{code}'."),
            field="action_lines",
            params={"code": unknown[0][:40]},
        )
    await session.execute(delete(GroupActionLine).where(GroupActionLine.group_id == group.id))
    for code in codes:
        session.add(GroupActionLine(group_id=group.id, action_line_id=lines[code].id))


async def do_create_group(
    session: AsyncSession, *, actor: User, slug: str, kind: str, family: str, fields: GroupFields
) -> Group:
    """A new group with its room (no read ever makes a room)."""
    check_keep_structure(is_secretariat=actor.is_secretariat)
    slug = check_slug(slug)
    group = Group(
        slug=slug,
        name=fields.name,
        kind=check_kind(kind),
        family=check_family(family),
        region=fields.region,
        description=fields.description,
    )
    try:
        async with write_transaction(session):
            if await get_group(session, slug) is not None:
                raise _slug_taken()
            session.add(group)
            await session.flush()
            session.add(Room(group_id=group.id))
            await _link_action_lines(session, group, fields.action_lines)
    except IntegrityError:
        raise _slug_taken() from None  # two made at once with one slug: the index decides
    return group


def _slug_taken() -> ForumError:
    return ForumError(ErrorCode.CONFLICT, N_("A group has this address already."), field="slug")


async def do_edit_group(
    session: AsyncSession, broker: Broker, *, actor: User, slug: str, fields: GroupFields
) -> Group:
    check_keep_structure(is_secretariat=actor.is_secretariat)
    bumped: Bumped = []
    async with write_transaction(session):
        group = await require_group(session, slug)
        if group.name != fields.name:
            # Its name is on the positions it signed, on any board.
            bumped = await bump_boards(session)
        group.name = fields.name
        group.description = fields.description
        group.region = fields.region
        await _link_action_lines(session, group, fields.action_lines)
    await announce(broker, bumped)
    return group


async def do_edit_action_line(
    session: AsyncSession,
    broker: Broker,
    *,
    actor: User,
    code: str,
    title: str,
    description: str,
    facilitators: str,
) -> ActionLine:
    """Retitle an action line or theme; its code (C1-C11, a theme's) stays."""
    check_keep_structure(is_secretariat=actor.is_secretariat)
    cleaned_title = clean_line(title, field="title", max_chars=300)
    cleaned_description = clean_body(description, field="description", required=False, trim=True)
    names = check_facilitators(facilitators)
    async with write_transaction(session):
        line = await get_action_line(session, code)
        if line is None:
            raise ForumError(ErrorCode.NOT_FOUND, N_("No such action line or theme."))
        line.title = cleaned_title
        line.description = cleaned_description
        line.facilitators = names
        # Its board's pages show them.
        bumped = await bump_boards(session, line.id)
    await announce(broker, bumped)
    return line


async def do_decide_family_request(
    session: AsyncSession, broker: Broker, *, actor: User, request_id: int, approve: bool
) -> FamilyRequest:
    """Approve (the person is counted in the new family from now on) or refuse a
    pending request. Memberships stay as they are: the secretariat changes them on
    the group's page, where paragraph 27a is checked."""
    check_keep_structure(is_secretariat=actor.is_secretariat)
    async with write_transaction(session):
        request = await session.get(FamilyRequest, request_id, with_for_update=True)
        if request is None or request.status != "pending":
            raise ForumError(ErrorCode.NOT_FOUND, N_("No such pending request."))
        request.status = "approved" if approve else "refused"
        request.decided_at = utcnow()
        request.decided_by = actor.id
        bumped: Bumped = []
        if approve:
            await session.execute(
                update(User).where(User.id == request.user_id).values(family=request.family)
            )
            # The boards show each author's family.
            bumped = await bump_boards(session)
    await announce(broker, bumped)
    return request
