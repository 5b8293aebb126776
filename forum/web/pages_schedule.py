"""The schedule of every session, `/sessions`: live now, to come and past (each paged),
filtered by group, action line and the group's stakeholder family through a GET form
that needs no JavaScript. Times are in the reader's time zone.

A filter naming nothing that exists is answered with the form again, the message
beside its field and the rest of the choice kept, and no sessions listed.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from forum.db.base import utcnow
from forum.db.meeting_queries import list_meetings
from forum.db.models import ActionLine, Group
from forum.db.queries import list_action_lines, list_groups
from forum.db.schedule_queries import (
    SchedulePage,
    SessionFilter,
    list_live,
    list_past_page,
    list_upcoming_page,
)
from forum.domain.vocabulary import Family
from forum.errors import N_, ErrorCode, ForumError
from forum.web.http import db
from forum.web.labels import FAMILY_NAMES, translated
from forum.web.locale import reader
from forum.web.pages import page_context
from forum.web.pages_meetings import STATUS_NAMES
from forum.web.templates import render

FILTERS = ("group", "action_line", "family")


def _choose(
    values: dict[str, str], groups: Sequence[Group], lines: Sequence[ActionLine]
) -> SessionFilter:
    """The filter the form asks for; a value naming nothing is refused beside its field."""
    group_id = line_id = None
    if values["group"]:
        group_id = next((g.id for g in groups if g.slug == values["group"]), None)
        if group_id is None:
            raise ForumError(ErrorCode.VALIDATION, N_("Choose one of the groups."), field="group")
    if values["action_line"]:
        line_id = next((li.id for li in lines if li.code == values["action_line"]), None)
        if line_id is None:
            raise ForumError(
                ErrorCode.VALIDATION,
                N_("Choose one of the action lines or themes."),
                field="action_line",
            )
    if values["family"] and values["family"] not in {f.value for f in Family}:
        raise ForumError(
            ErrorCode.VALIDATION, N_("Choose one of the stakeholder families."), field="family"
        )
    return SessionFilter(group_id, line_id, values["family"] or None)


def _query(values: dict[str, str], **cursor: str) -> str:
    """The query string of a link that keeps the filter chosen."""
    kept = {name: value for name, value in values.items() if value}
    return urlencode({**kept, **cursor})


async def schedule_page(request: Request) -> Response:
    values = {name: request.query_params.get(name, "")[:100] for name in FILTERS}
    now = utcnow()
    error: ForumError | None = None
    live = []
    upcoming = past = SchedulePage([], None)
    async with db(request) as session:
        groups = await list_groups(session)
        lines = await list_action_lines(session)
        meetings = await list_meetings(session, after=now)
        try:
            chosen = _choose(values, groups, lines)
            live = await list_live(session, chosen)
            upcoming = await list_upcoming_page(
                session, now, chosen, cursor=request.query_params.get("upcoming") or None
            )
            past = await list_past_page(
                session, now, chosen, cursor=request.query_params.get("past") or None
            )
        except ForumError as refused:
            error = refused
    shown_to = await reader(request)
    return render(
        request,
        "overview/schedule.html",
        await page_context(
            request,
            values=values,
            error=error,
            groups=sorted(groups, key=lambda g: g.name.casefold()),
            lines=lines,
            family_names=translated(FAMILY_NAMES, shown_to),
            live=live,
            upcoming=upcoming,
            past=past,
            now=now,
            more_upcoming=_query(values, upcoming=upcoming.next_cursor or ""),
            more_past=_query(values, past=past.next_cursor or ""),
            meetings=meetings,
            meeting_status=STATUS_NAMES,
        ),
        status=error.status if error else 200,
    )


routes = [Route("/sessions", schedule_page, methods=["GET"])]
