"""Meetings' pages: a meeting's record (`/meetings/{id}`) with the forms its reader may
use (answer a consultation, name a side's delegation, record the outcome), and the
forms that call a briefing and propose a consultation. Plain HTML forms with the CSRF
token, each error beside its field and what was typed kept; a write redirects (303).
The actions decide who may; the pages only offer what the reader may do.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from forum.actions.consultations import (
    Proposal,
    do_answer_consultation,
    do_name_delegation,
    do_propose_consultation,
)
from forum.actions.meeting_view import get_meeting, powers_of
from forum.actions.meetings import MeetingDraft, do_call_briefing, do_record_outcome
from forum.db.base import ID_MAX
from forum.db.models import Group, Membership, User
from forum.db.queries import list_groups, require_group
from forum.domain.consultations import INTERACTIONS, Basis
from forum.domain.sessions import SessionFormat
from forum.domain.vocabulary import Role
from forum.errors import N_, ErrorCode, ForumError
from forum.web.forms import field, read_form
from forum.web.http import app_state, db, principal
from forum.web.labels import translated
from forum.web.locale import reader
from forum.web.pages import page_context
from forum.web.pages_room import FORMAT_NAMES
from forum.web.templates import render

KIND_NAMES = {"briefing": N_("Briefing"), "consultation": N_("Consultation")}
STATUS_NAMES = {
    "proposed": N_("proposed, waiting for an answer"),
    "countered": N_("another time proposed, waiting for an answer"),
    "accepted": N_("accepted"),
    "declined": N_("declined"),
}
BASIS_NAMES = {
    "issue": N_("Issue-based: a working group and the related caucus"),
    "region": N_("Region-based: a regional group and a regional caucus"),
}
INTERACTION_NAMES = {
    "open_debate": N_("Open debate"),
    "statements": N_("Round of statements"),
    "drafting": N_("Comments on a text"),
}
PROPOSAL_FIELDS = (
    "guest",
    "basis",
    "title",
    "purpose",
    "format",
    "agenda",
    "starts_at",
    "minutes",
    "seats_per_side",
)
BRIEFING_FIELDS = ("title", "agenda", "starts_at", "ends_at", "transcript_closed")


def _utc(value: str, name: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ForumError(
            ErrorCode.VALIDATION, N_("Give a date and time, such as 2005-11-16 09:00."), field=name
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _whole(value: str, name: str) -> int:
    if not value.strip().isdigit() or len(value.strip()) > 6:
        raise ForumError(ErrorCode.VALIDATION, N_("Give a whole number."), field=name)
    return int(value.strip())


def _ids(values: list[str], name: str) -> list[int]:
    if not all(
        value.isdigit() and len(value) <= 10 and 0 < int(value) <= ID_MAX for value in values
    ):
        raise ForumError(ErrorCode.VALIDATION, N_("Choose among the people listed."), field=name)
    return [int(value) for value in values]


async def _labels(request: Request) -> dict[str, Any]:
    shown_to = await reader(request)
    return {
        "kind_names": translated(KIND_NAMES, shown_to),
        "status_names": translated(STATUS_NAMES, shown_to),
        "basis_names": translated(BASIS_NAMES, shown_to),
        "interaction_names": translated(INTERACTION_NAMES, shown_to),
        "format_names": translated(FORMAT_NAMES, shown_to),
    }


def _meeting_id(request: Request) -> int:
    meeting_id: int = request.path_params["meeting_id"]
    return meeting_id


async def _meeting_page(
    request: Request,
    *,
    error: ForumError | None = None,
    error_at: str | None = None,
    values: dict[str, str] | None = None,
    chosen: list[int] | None = None,
) -> Response:
    caller = await principal(request)
    async with db(request) as session:
        document = await get_meeting(session, _meeting_id(request))
        powers = await powers_of(session, document, caller.user if caller else None)
    return render(
        request,
        "meetings/meeting.html",
        await page_context(
            request,
            m=document,
            c=document["consultation"],
            powers=powers,
            error=error,
            error_at=error_at,
            values=values or {},
            chosen=set(chosen or []),
            **await _labels(request),
        ),
        status=error.status if error else 200,
    )


async def meeting_page(request: Request) -> Response:
    return await _meeting_page(request)


def _signed_in_user(caller: Any) -> User:
    if caller is None:
        raise ForumError(ErrorCode.UNAUTHENTICATED, N_("Sign in first."))
    user: User = caller.user
    return user


async def answer_form(request: Request) -> Response:
    form = await read_form(request)
    user = _signed_in_user(await principal(request))
    values = {name: field(form, name) for name in ("answer", "reason", "starts_at", "minutes")}
    state = app_state(request)
    try:
        counter = values["answer"] == "counter"
        async with db(request) as session:
            await do_answer_consultation(
                session,
                state["broker"],
                _meeting_id(request),
                user=user,
                answer=values["answer"],
                reason=values["reason"],
                starts_at=_utc(values["starts_at"], "starts_at") if counter else None,
                minutes=_whole(values["minutes"], "minutes") if counter else None,
                min_notice_days=state["settings"].consultation_min_notice_days,
            )
    except ForumError as error:
        if error.code is ErrorCode.NOT_FOUND:
            raise
        return await _meeting_page(request, error=error, error_at="answer", values=values)
    return RedirectResponse(f"/meetings/{_meeting_id(request)}", status_code=303)


async def delegation_form(request: Request) -> Response:
    form = await read_form(request)
    user = _signed_in_user(await principal(request))
    side = request.path_params["side"]
    chosen: list[int] = []
    try:
        chosen = _ids([v for v in form.getlist("delegates") if isinstance(v, str)], "delegates")
        async with db(request) as session:
            await do_name_delegation(
                session,
                app_state(request)["broker"],
                _meeting_id(request),
                user=user,
                side=side,
                user_ids=chosen,
            )
    except ForumError as error:
        if error.code is ErrorCode.NOT_FOUND:
            raise
        return await _meeting_page(
            request, error=error, error_at=f"delegation-{side}", chosen=chosen
        )
    return RedirectResponse(f"/meetings/{_meeting_id(request)}", status_code=303)


async def outcome_form(request: Request) -> Response:
    form = await read_form(request)
    user = _signed_in_user(await principal(request))
    summary = field(form, "summary")
    try:
        async with db(request) as session:
            await do_record_outcome(
                session,
                app_state(request)["broker"],
                _meeting_id(request),
                user=user,
                summary=summary,
            )
    except ForumError as error:
        if error.code is ErrorCode.NOT_FOUND:
            raise
        return await _meeting_page(
            request, error=error, error_at="outcome", values={"summary": summary}
        )
    return RedirectResponse(f"/meetings/{_meeting_id(request)}", status_code=303)


async def _propose_page(
    request: Request, values: dict[str, str] | None = None, error: ForumError | None = None
) -> Response:
    async with db(request) as session:
        group = await require_group(session, request.path_params["slug"])
        others = [g for g in await list_groups(session) if g.id != group.id]
    return render(
        request,
        "meetings/propose.html",
        await page_context(
            request,
            group=group,
            others=sorted(others, key=lambda g: g.name.casefold()),
            values=values or {"basis": "issue", "format": "statements", "minutes": "120"},
            interactions=[kind.value for kind in INTERACTIONS],
            error=error,
            **await _labels(request),
        ),
        status=error.status if error else 200,
    )


async def propose_page(request: Request) -> Response:
    return await _propose_page(request)


async def propose_form(request: Request) -> Response:
    form = await read_form(request)
    user = _signed_in_user(await principal(request))
    values = {name: field(form, name) for name in PROPOSAL_FIELDS}
    state = app_state(request)
    try:
        try:
            basis, kind = Basis(values["basis"]), SessionFormat(values["format"])
        except ValueError:
            raise ForumError(
                ErrorCode.VALIDATION, N_("Choose one of the kinds offered."), field="format"
            ) from None
        starts_at = _utc(values["starts_at"], "starts_at")
        proposal = Proposal(
            host=request.path_params["slug"],
            guest=values["guest"],
            basis=basis,
            purpose=values["purpose"],
            seats_per_side=_whole(values["seats_per_side"], "seats_per_side"),
            minutes=_whole(values["minutes"], "minutes"),
            meeting=MeetingDraft(values["title"], values["agenda"], starts_at, starts_at, kind),
        )
        async with db(request) as session:
            meeting = await do_propose_consultation(
                session,
                state["broker"],
                user=user,
                proposal=proposal,
                min_notice_days=state["settings"].consultation_min_notice_days,
            )
    except ForumError as error:
        if error.code is ErrorCode.NOT_FOUND and error.field != "guest":
            raise
        return await _propose_page(request, values, error)
    return RedirectResponse(f"/meetings/{meeting.id}", status_code=303)


async def _office_holders(request: Request) -> list[dict[str, Any]]:
    """Whom a briefing may name from its form: the chairs and coordinators of every
    group and the secretariat, each with their offices."""
    async with db(request) as session:
        rows = await session.execute(
            select(User, Membership.role, Group.name)
            .join(Membership, Membership.user_id == User.id)
            .join(Group, Group.id == Membership.group_id)
            .where(Membership.role.in_([Role.CHAIR.value, Role.COORDINATOR.value]))
            .order_by(User.display_name, User.id)
            .limit(200)
        )
        staff = (await session.scalars(select(User).where(User.is_secretariat).limit(50))).all()
    people: dict[int, dict[str, Any]] = {}
    for user in staff:
        people[user.id] = {"user": user, "offices": [], "secretariat": True}
    for user, role, group_name in rows:
        entry = people.setdefault(user.id, {"user": user, "offices": [], "secretariat": False})
        entry["offices"].append((role, group_name))
    return sorted(people.values(), key=lambda p: p["user"].display_name.casefold())


async def _briefing_page(
    request: Request,
    values: dict[str, str] | None = None,
    chosen: list[int] | None = None,
    error: ForumError | None = None,
) -> Response:
    return render(
        request,
        "meetings/briefing_form.html",
        await page_context(
            request,
            people=await _office_holders(request),
            values=values or {},
            chosen=set(chosen or []),
            error=error,
        ),
        status=error.status if error else 200,
    )


async def briefing_page(request: Request) -> Response:
    return await _briefing_page(request)


async def briefing_form(request: Request) -> Response:
    form = await read_form(request)
    user = _signed_in_user(await principal(request))
    values = {name: field(form, name) for name in BRIEFING_FIELDS}
    chosen: list[int] = []
    try:
        chosen = _ids([v for v in form.getlist("invitees") if isinstance(v, str)], "invitees")
        draft = MeetingDraft(
            values["title"],
            values["agenda"],
            _utc(values["starts_at"], "starts_at"),
            _utc(values["ends_at"], "ends_at"),
            SessionFormat.BRIEFING,
        )
        async with db(request) as session:
            meeting = await do_call_briefing(
                session,
                app_state(request)["broker"],
                user=user,
                draft=draft,
                invitees=chosen,
                transcript_closed=values["transcript_closed"] == "1",
            )
    except ForumError as error:
        return await _briefing_page(request, values, chosen, error)
    return RedirectResponse(f"/meetings/{meeting.id}", status_code=303)


routes = [
    Route("/meetings/briefings/new", briefing_page, methods=["GET"]),
    Route("/meetings/briefings/new", briefing_form, methods=["POST"]),
    Route("/meetings/{meeting_id:id}", meeting_page, methods=["GET"]),
    Route("/meetings/{meeting_id:id}/answer", answer_form, methods=["POST"]),
    Route("/meetings/{meeting_id:id}/delegations/{side}", delegation_form, methods=["POST"]),
    Route("/meetings/{meeting_id:id}/outcome", outcome_form, methods=["POST"]),
    Route("/groups/{slug}/consultations/new", propose_page, methods=["GET"]),
    Route("/groups/{slug}/consultations/new", propose_form, methods=["POST"]),
]
