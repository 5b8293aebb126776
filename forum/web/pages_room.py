"""The live room page, `/groups/{slug}/room`: a snapshot of the room rendered by the
server (readable without JavaScript), which `room.js` keeps live over `/ws`.

What the script needs comes in two JSON elements (the CSP allows no inline script):
the room at the page's `seq` with what the reader may do, and the catalog of every
string the script shows, written in the template so that it is translated with it.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from forum.actions.equity_reads import get_live_equity
from forum.actions.room_reads import room_for
from forum.actions.room_view import RoomView, get_room_view
from forum.db.base import utcnow
from forum.domain.meetings import address
from forum.domain.regions import COUNTRIES
from forum.domain.speaking import INTERVENTION_MAX_CHARS, SHORT_INTERVENTION_MAX_CHARS
from forum.domain.vocabulary import Family, Seat
from forum.errors import N_
from forum.web.http import db, principal
from forum.web.labels import FAMILY_NAMES, translated
from forum.web.locale import reader
from forum.web.pages import page_context
from forum.web.templates import render
from forum.wire.room import PresenceUser

# The first HTML lists people until their names and organizations take this many
# bytes; the script lists everyone once it joins (`joined` brings the whole presence),
# so a full hall does not bloat the page.
PRESENCE_BYTES = 6_000
# Msgids; each page gets them in its reader's language (`translated`).
SEAT_NAMES = {"participant": N_("in the room"), "remote": N_("remote"), "observer": N_("observer")}
FORMAT_NAMES = {
    "open_debate": N_("Open debate"),
    "statements": N_("Statements"),
    "briefing": N_("Briefing"),
    "drafting": N_("Drafting"),
}
POLICY_NAMES = {
    "fifo": N_("first come, first served"),
    "rotation": N_("rotation across stakeholder families"),
    "rotation_regions": N_("rotation across families and north and south"),
    "alternating": N_("alternating between the two sides"),
}


def _chosen_seat(request: Request, view: RoomView) -> str:
    """The seat asked for in the query (the seat form works without JavaScript), or
    the likeliest: remote for members (the forum is virtual first), else the one left."""
    asked = request.query_params.get("seat", "")
    if asked in view.seats:
        return asked
    return Seat.REMOTE.value if Seat.REMOTE.value in view.seats else view.seats[0]


def _listed(users: list[PresenceUser]) -> list[PresenceUser]:
    listed: list[PresenceUser] = []
    size = 0
    for user in users:
        size += len(f"{user['name']}{user['organization']}".encode())
        if size > PRESENCE_BYTES:
            break
        listed.append(user)
    return listed


def _by_family(users: list[PresenceUser]) -> list[tuple[str, list[PresenceUser]]]:
    groups: list[tuple[str, list[PresenceUser]]] = []
    for family in Family:
        members = [user for user in users if user["family"] == family.value]
        if members:
            groups.append((family.value, members))
    return groups


def _links(slug: str, meeting_id: int | None) -> dict[str, str]:
    """Where the room page links: its group's pages, or its meeting's page."""
    if meeting_id is not None:
        home = f"/meetings/{meeting_id}"
        return {"home": home, "archive": home, "chair": home}
    return {
        "home": f"/groups/{slug}",
        "archive": f"/rooms/{slug}/archive",
        "chair": f"/groups/{slug}/room/sessions",
    }


async def room_page(request: Request) -> Response:
    caller = await principal(request)
    user = caller.user if caller else None
    async with db(request) as session:
        # A meeting's room (/meetings/{id}/room) has no group: a stand-in names it.
        meeting_id = request.path_params.get("meeting_id")
        slug = address(meeting_id) if meeting_id else request.path_params["slug"]
        group, room = await room_for(session, slug)
        view = await get_room_view(session, room.id, user=user)
        # The chair follows the equity live; the page starts with the figures so far.
        live_equity = (
            (await get_live_equity(session, room.id, user=user))["equity"]
            if user is not None and view.is_chair and view.state["session"]
            else None
        )
    seat = _chosen_seat(request, view)
    listed = _listed(view.presence["users"])
    state = view.state
    script_data = {
        "room": group.slug,
        "seq": state["seq"],
        "state": state,
        "me": {"id": user.id, "name": user.display_name} if user else None,
        "seat": seat,
        "is_chair": view.is_chair,
        "limits": {"short": SHORT_INTERVENTION_MAX_CHARS, "long": INTERVENTION_MAX_CHARS},
        "server_time": utcnow().isoformat(),
        "upcoming": view.upcoming,
    }
    return render(
        request,
        "rooms/room.html",
        await page_context(
            request,
            group=group,
            view=view,
            state=state,
            seat=seat,
            by_family=_by_family(listed),
            unlisted=len(view.presence["users"]) - len(listed),
            queued={entry["user_id"] for entry in state["queue"]},
            countries={code: name for code, (name, _region) in COUNTRIES.items()},
            seat_names=translated(SEAT_NAMES, await reader(request)),
            families_by_value=translated(FAMILY_NAMES, await reader(request)),
            format_names=translated(FORMAT_NAMES, await reader(request)),
            policy_names=translated(
                {k: v for k, v in POLICY_NAMES.items() if meeting_id or k != "alternating"},
                await reader(request),
            ),
            script_data=script_data,
            links=_links(group.slug, meeting_id),
            limits=script_data["limits"],
            live_equity=live_equity,
        ),
    )


routes = [
    Route("/groups/{slug}/room", room_page, methods=["GET"]),
    Route("/meetings/{meeting_id:id}/room", room_page, methods=["GET"]),
]
