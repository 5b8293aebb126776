"""Every HTTP route of the forum, in one list; each module owns its own routes."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from forum.web import (
    api_access,
    api_accounts,
    api_contacts,
    api_discussions,
    api_floor,
    api_meetings,
    api_minutes,
    api_posts,
    api_profile,
    api_rooms,
    api_secretariat,
    api_structure,
    calendars,
    locale,
    pages,
    pages_access,
    pages_contact_requests,
    pages_contacts,
    pages_delete,
    pages_discussions,
    pages_floor,
    pages_group,
    pages_group_forms,
    pages_home,
    pages_meetings,
    pages_minutes,
    pages_posts,
    pages_profile,
    pages_room,
    pages_room_chair,
    pages_rooms,
    pages_schedule,
    pages_secretariat,
    pages_secretariat_lines,
    sse,
)
from forum.web.assets import AssetFiles
from forum.web.openapi import ApiRouter, openapi_document
from forum.web.templates import ASSETS

API_ROUTERS: list[ApiRouter] = [
    api_structure.operations,
    api_accounts.router,
    api_profile.router,
    api_structure.router,
    api_secretariat.router,
    api_rooms.router,
    api_floor.router,
    api_meetings.router,
    api_access.router,
    api_minutes.router,
    calendars.router,
    api_discussions.router,
    api_posts.router,
    sse.router,
    api_contacts.router,
]


async def openapi(request: Request) -> Response:
    return JSONResponse(openapi_document(API_ROUTERS))


def build_routes() -> list[BaseRoute]:
    routes: list[BaseRoute] = [Route("/openapi.json", openapi, methods=["GET"])]
    for router in API_ROUTERS:
        routes.extend(router.routes)
    routes.extend(pages_home.routes)
    routes.extend(pages.routes)
    routes.extend(pages_group.routes)
    routes.extend(pages_group_forms.routes)
    routes.extend(pages_schedule.routes)
    routes.extend(locale.routes)
    routes.extend(pages_rooms.routes)
    routes.extend(pages_minutes.routes)
    routes.extend(pages_room.routes)
    routes.extend(pages_room_chair.routes)
    routes.extend(pages_floor.routes)
    routes.extend(pages_meetings.routes)
    routes.extend(pages_access.routes)
    routes.extend(pages_discussions.routes)
    routes.extend(pages_posts.routes)
    routes.extend(pages_delete.routes)
    routes.extend(pages_profile.routes)
    routes.extend(pages_secretariat.routes)
    routes.extend(pages_secretariat_lines.routes)
    routes.extend(pages_contacts.routes)
    routes.extend(pages_contact_requests.routes)
    routes.append(Mount("/static", app=AssetFiles(ASSETS), name="static"))
    return routes
