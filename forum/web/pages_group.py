"""A group's page, `/groups/{slug}`: its members by role (with organization and country,
never an e-mail address), its positions, its room and sessions, and the forms that
change who is in it.

What the page offers follows the permission table (forum/domain/permissions.py): a
join button to someone signed in who is not a member, with the role joining gives; a
role selector beside each member for the group's chair or the secretariat, listing
the roles they may give. The actions decide anyway: a refused form comes back with
its message beside it and nothing changed (forum/web/pages_group_forms.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from forum.actions.groups import facts
from forum.auth import Principal
from forum.db.activity_queries import list_latest_positions
from forum.db.base import utcnow
from forum.db.meeting_queries import list_meetings
from forum.db.member_queries import ROLE_ORDER, MemberItem, list_members_by_role
from forum.db.models import Group
from forum.db.observer_queries import list_observer_requests
from forum.db.queries import get_membership, group_action_line_codes, require_group
from forum.db.schedule_queries import list_group_sessions
from forum.domain.membership import can_manage, self_join_role
from forum.domain.permissions import Action, may
from forum.domain.vocabulary import Family, Role
from forum.errors import N_, ErrorCode, ForumError
from forum.web.http import db, principal
from forum.web.locale import reader
from forum.web.pages import page_context
from forum.web.pages_meetings import STATUS_NAMES
from forum.web.templates import render

# Headings of the lists of members: each a word of its own in the catalogs.
ROLE_HEADINGS = {
    Role.CHAIR: N_("Chairs"),
    Role.COORDINATOR: N_("Coordinators"),
    Role.CONTACT_POINT: N_("Contact points"),
    Role.MEMBER: N_("Members"),
    Role.OBSERVER: N_("Observers"),
}


@dataclass(frozen=True)
class Offer:
    """What the page offers the reader to do about their own membership."""

    role: str | None = None  # their role in the group, if any
    joins_as: str | None = None  # the role joining would give them
    refusal: ForumError | None = None  # why they cannot join, if they cannot


def _offer(group: Group, caller: Principal | None, role: str | None) -> Offer:
    if caller is None or role is not None:
        return Offer(role=role)
    try:
        joins_as = self_join_role(facts(group), Family(caller.user.family))
    except ForumError as refused:
        return Offer(refusal=refused)
    return Offer(joins_as=joins_as.value)


def assignable_roles(caller: Principal | None, role: str | None) -> list[str]:
    """The roles the caller may give in this group, as the table says: every role for
    the secretariat, every role but chair for the group's chair, none otherwise."""
    if caller is None:
        return []
    actor = Role(role) if role else None
    if not can_manage(is_secretariat=caller.user.is_secretariat, actor_role=actor):
        return []
    chairs = may(Action.APPOINT_CHAIR, actor, is_secretariat=caller.user.is_secretariat)
    return [r.value for r in ROLE_ORDER if r is not Role.CHAIR or chairs]


def manages(member: MemberItem, roles: list[str]) -> bool:
    """Whether the caller may change this member's role: a chair is changed only by
    whoever may appoint one."""
    return bool(roles) and (member.role != Role.CHAIR.value or Role.CHAIR.value in roles)


async def render_group(
    request: Request,
    *,
    error: ForumError | None = None,
    error_at: str | None = None,
    status: int = 200,
) -> Response:
    """The group's page; `error` shown beside the form `error_at` names ("join",
    "leave", "member-<id>")."""
    caller = await principal(request)
    now = utcnow()
    async with db(request) as session:
        group = await require_group(session, request.path_params["slug"])
        codes = (await group_action_line_codes(session, [group.id]))[group.id]
        members = await list_members_by_role(session, group.id)
        positions = await list_latest_positions(session, group_id=group.id)
        sessions = await list_group_sessions(session, group.id, now)
        consultations = await list_meetings(session, group_id=group.id)
        mine = await get_membership(session, group.id, caller.user.id) if caller else None
        observers = await list_observer_requests(session, group.id, statuses=("approved",))
    role = mine.role if mine else None
    roles = assignable_roles(caller, role)
    shown_to = await reader(request)
    return render(
        request,
        "overview/group.html",
        await page_context(
            request,
            group=group,
            codes=codes,
            members=members,
            role_headings={str(r): h for r, h in ROLE_HEADINGS.items()},
            countries=shown_to.locale.territories,
            positions=positions,
            sessions=sessions,
            consultations=consultations,
            meeting_status=STATUS_NAMES,
            observers=observers,
            now=now,
            offer=_offer(group, caller, role),
            roles=roles,
            manages=manages,
            error=error,
            error_at=error_at,
        ),
        status=status,
    )


async def group_page(request: Request) -> Response:
    return await render_group(request)


async def require_signed_in(request: Request) -> Principal:
    caller = await principal(request)
    if caller is None:
        raise ForumError(ErrorCode.UNAUTHENTICATED, N_("Sign in first."))
    return caller


routes = [Route("/groups/{slug}", group_page, methods=["GET"])]
