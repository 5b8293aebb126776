"""iCalendar feeds (RFC 5545): a room's sessions, a group's, and a person's own.

A calendar client subscribes to an address and fetches it on its own, carrying no
cookie, so the room and group feeds are public (as the schedule is) and a person's
feed is found by a secret address: a key kept on their profile, signed with the
server's secret (`calendar_address`). Revoking or replacing the key on /profile ends
the old address. Each session is one VEVENT whose UID never changes and whose
SEQUENCE grows with every change of its title, agenda, times or status
(`forum.domain.calendars`); a cancelled session stays listed with STATUS:CANCELLED.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlsplit

from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import Response

from forum.actions.calendar_keys import (
    do_make_calendar_key,
    do_revoke_calendar_key,
    get_calendar_key,
    user_of_calendar_key,
)
from forum.actions.room_reads import room_for
from forum.auth import sign, unsign
from forum.db.calendar_queries import sessions_of_group, sessions_of_person, sessions_of_room
from forum.db.queries import require_group
from forum.db.schedule_queries import ListedSession
from forum.domain.calendars import calendar_status
from forum.domain.sessions import SessionFormat, SessionStatus
from forum.errors import N_, ErrorCode, ForumError, fill
from forum.i18n.reader import Reader
from forum.ics import Event, calendar
from forum.web.http import app_state, db, json_response, require_principal
from forum.web.labels import SESSION_FORMATS
from forum.web.locale import reader, reader_for
from forum.web.openapi import ApiRouter

router = ApiRouter(tag="calendars")
MEDIA_TYPE = "text/calendar; charset=utf-8"
PURPOSE = "calendar"
PRODUCT = "-//Agora//Sessions//EN"


def calendar_address(request: Request, key: str) -> str:
    """The private address of the calendar whose key is `key`."""
    token = sign(app_state(request)["settings"].secret_key, PURPOSE, key)
    return f"{_base(request)}/api/calendars/{token}.ics"


def _base(request: Request) -> str:
    # As the Atom feeds: links built from the configured address, never the Host header.
    return app_state(request)["settings"].public_url


def session_address(base: str, listed: ListedSession) -> str:
    """The page of a session: its transcript once held, the room before."""
    if listed.session.status == SessionStatus.CLOSED.value:
        return f"{base}/sessions/{listed.session.id}/transcript"
    if listed.meeting_id is not None:
        return f"{base}/meetings/{listed.meeting_id}"
    return f"{base}{listed.room_path}"


def session_event(base: str, listed: ListedSession, shown_to: Reader) -> Event:
    row, group = listed.session, listed.group
    host = urlsplit(base).hostname or "agora"
    fmt = shown_to.gettext(SESSION_FORMATS.get(SessionFormat(row.format), row.format))
    return Event(
        uid=f"session-{row.id}@{host}",
        sequence=row.sequence,
        stamp=row.revised_at or row.created_at,
        created=row.created_at,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        summary=row.title,
        description=row.agenda,
        status=calendar_status(SessionStatus(row.status)),
        url=session_address(base, listed),
        location=fill(shown_to.gettext(N_("Room of {group} on Agora")), {"group": group.name}),
        categories=(fmt,),
    )


def _feed(request: Request, name: str, rows: Sequence[ListedSession], shown_to: Reader) -> Response:
    base = _base(request)
    body = calendar(
        product=PRODUCT,
        name=name,
        events=[session_event(base, listed, shown_to) for listed in rows],
        language=shown_to.language,
    )
    headers = {
        "Content-Language": shown_to.language,
        "Vary": "Accept-Language, Cookie",
        "Cache-Control": "no-cache",
    }
    return Response(body, media_type=MEDIA_TYPE, headers=headers)


@router.route(
    "GET",
    "/rooms/{slug}/calendar.ics",
    summary="iCalendar feed of a room's sessions",
    media_type="text/calendar",
    errors=(404,),
)
async def room_calendar(request: Request) -> Response:
    async with db(request) as session:
        group, room = await room_for(session, request.path_params["slug"])
        rows = await sessions_of_room(session, room.id)
    shown_to = await reader(request)
    name = fill(shown_to.gettext(N_("Room of {group}")), {"group": group.name})
    return _feed(request, name, rows, shown_to)


@router.route(
    "GET",
    "/groups/{slug}/calendar.ics",
    summary="iCalendar feed of the sessions a group takes part in",
    media_type="text/calendar",
    errors=(404,),
)
async def group_calendar(request: Request) -> Response:
    async with db(request) as session:
        group = await require_group(session, request.path_params["slug"])
        rows = await sessions_of_group(session, group.id)
    shown_to = await reader(request)
    name = fill(shown_to.gettext(N_("Sessions of {group}")), {"group": group.name})
    return _feed(request, name, rows, shown_to)


@router.route(
    "GET",
    "/calendars/{token}.ics",
    summary="A person's private iCalendar feed, by the secret address on their profile",
    media_type="text/calendar",
    errors=(404,),
)
async def person_calendar(request: Request) -> Response:
    key = unsign(app_state(request)["settings"].secret_key, PURPOSE, request.path_params["token"])
    async with db(request) as session:
        user = await user_of_calendar_key(session, key) if key else None
        if user is None:
            # Revoked, replaced, mistyped or forged: the same answer for all.
            raise ForumError(ErrorCode.NOT_FOUND, N_("No such calendar."))
        rows = await sessions_of_person(session, user.id)
    # The person's language, not the calendar client's: it sends no preference.
    shown_to = reader_for(request, user.language, user.time_zone)
    name = fill(shown_to.gettext(N_("{name}: sessions on Agora")), {"name": user.display_name})
    return _feed(request, name, rows, shown_to)


class CalendarAddressOut(BaseModel):
    address: str | None = Field(description="The private feed's address; null when there is none")


async def my_calendar_address(request: Request, user_id: int) -> str | None:
    async with db(request) as session:
        key = await get_calendar_key(session, user_id)
    return calendar_address(request, key) if key else None


@router.route(
    "GET",
    "/me/calendar",
    summary="The address of one's private calendar feed",
    response=CalendarAddressOut,
    auth="required",
)
async def get_my_calendar(request: Request) -> Response:
    caller = await require_principal(request)
    return json_response({"address": await my_calendar_address(request, caller.user.id)})


@router.route(
    "POST",
    "/me/calendar",
    summary="Make a new private calendar address; the previous one stops working",
    response=CalendarAddressOut,
    status=201,
    auth="required",
)
async def make_my_calendar(request: Request) -> Response:
    caller = await require_principal(request)
    async with db(request) as session:
        key = await do_make_calendar_key(session, user_id=caller.user.id)
    return json_response({"address": calendar_address(request, key)}, status=201)


@router.route(
    "DELETE",
    "/me/calendar",
    summary="Revoke one's private calendar address",
    response=CalendarAddressOut,
    auth="required",
)
async def revoke_my_calendar(request: Request) -> Response:
    caller = await require_principal(request)
    async with db(request) as session:
        await do_revoke_calendar_key(session, user_id=caller.user.id)
    return json_response({"address": None})
