"""The contact point directory: a page per action line (the contact points of the groups
following it, beside its facilitating agencies) and per group, and a page per contact
point, where they edit their entry and a government delegate sends them a request.

Every directory page reads signed out and shows what anyone may see of a person, never
an e-mail address. Forms post with the CSRF field and redirect (303) after a write; a
refused form comes back with its message beside the field and what was typed kept.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from forum.actions.contacts import do_request_contact, do_save_contact_entry
from forum.db.contact_queries import (
    DirectoryItem,
    get_directory_item,
    list_group_contact_points,
    list_line_contact_points,
    statuses_between,
)
from forum.db.discussions_queries import get_board_line
from forum.db.models import ActionLine, Group
from forum.db.queries import require_group
from forum.domain.contacts import ContactStatus, check_contact_entry, may_request_contact
from forum.errors import N_, ErrorCode, ForumError
from forum.web.api_discussions import throttle
from forum.web.forms import field, read_form
from forum.web.http import db, principal
from forum.web.locale import reader
from forum.web.pages import page_context
from forum.web.pages_group import require_signed_in
from forum.web.templates import render


async def _directory(
    request: Request,
    items: list[DirectoryItem],
    *,
    line: ActionLine | None = None,
    group: Group | None = None,
) -> Response:
    """The contact points of an action line or of a group."""
    return render(
        request,
        "contacts/directory.html",
        await page_context(
            request,
            line=line,
            group=group,
            items=items,
            countries=(await reader(request)).locale.territories,
        ),
    )


async def line_directory_page(request: Request) -> Response:
    async with db(request) as session:
        line = await get_board_line(session, request.path_params["code"])
        items = await list_line_contact_points(session, line.id)
    return await _directory(request, items, line=line)


async def group_directory_page(request: Request) -> Response:
    async with db(request) as session:
        group = await require_group(session, request.path_params["slug"])
        items = await list_group_contact_points(session, group.id)
    return await _directory(request, items, group=group)


async def render_entry(
    request: Request,
    *,
    form: str | None = None,
    values: dict[str, Any] | None = None,
    error: ForumError | None = None,
    status: int = 200,
) -> Response:
    """A contact point's page; `form` names the form a refusal belongs to ("entry" or
    "request")."""
    user_id = request.path_params["user_id"]
    caller = await principal(request)
    async with db(request) as session:
        item = await get_directory_item(session, user_id)
        between = (
            await statuses_between(session, caller.user.id, user_id)
            if caller is not None and item is not None
            else []
        )
    if item is None:
        raise ForumError(ErrorCode.NOT_FOUND, N_("This person is not listed as a contact point."))
    own = caller is not None and caller.user.id == user_id
    may_ask = caller is not None and not own and may_request_contact(caller.user.family)
    entry_values = {
        "expertise": item.expertise,
        "languages": ", ".join(item.languages),
        "region": item.region,
    }
    return render(
        request,
        "contacts/entry.html",
        await page_context(
            request,
            item=item,
            own=own,
            may_ask=may_ask,
            waiting=ContactStatus.PENDING.value in between,
            talking=ContactStatus.ACCEPTED.value in between,
            form=form,
            values={**entry_values, "body": "", **(values or {})},
            error=error,
            countries=(await reader(request)).locale.territories,
        ),
        status=status,
    )


async def entry_page(request: Request) -> Response:
    return await render_entry(request)


async def entry_form(request: Request) -> Response:
    form = await read_form(request)
    caller = await require_signed_in(request)
    if caller.user.id != request.path_params["user_id"]:
        raise ForumError(ErrorCode.FORBIDDEN, N_("Only the contact point edits their entry."))
    values = {name: field(form, name) for name in ("expertise", "languages", "region")}
    try:
        fields = check_contact_entry(**values)
        async with db(request) as session:
            await do_save_contact_entry(session, user_id=caller.user.id, fields=fields)
    except ForumError as error:
        return await render_entry(
            request, form="entry", values=values, error=error, status=error.status
        )
    return RedirectResponse(f"/contact-points/{caller.user.id}?done=entry", status_code=303)


async def request_form(request: Request) -> Response:
    form = await read_form(request)
    caller = await require_signed_in(request)
    body = field(form, "body")
    try:
        async with db(request) as session:
            found = await do_request_contact(
                session,
                throttle(request),
                user_id=caller.user.id,
                contact_id=request.path_params["user_id"],
                body=body,
            )
    except ForumError as error:
        if error.code in {ErrorCode.NOT_CONTACT_POINT, ErrorCode.NOT_FOUND}:
            raise  # no entry to show the form again on: the refusal's own page
        return await render_entry(
            request, form="request", values={"body": body}, error=error, status=error.status
        )
    return RedirectResponse(f"/contacts/{found.request.id}?done=sent", status_code=303)


routes = [
    Route("/action-lines/{code}/contacts", line_directory_page, methods=["GET"]),
    Route("/groups/{slug}/contacts", group_directory_page, methods=["GET"]),
    Route("/contact-points/{user_id:id}", entry_page, methods=["GET"]),
    Route("/contact-points/{user_id:id}", entry_form, methods=["POST"]),
    Route("/contact-points/{user_id:id}/request", request_form, methods=["POST"]),
]
