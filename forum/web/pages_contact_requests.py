"""A person's contact requests and conversations (`/contacts`), and each conversation's
page: the request, the contact point's answer, and the messages of the two people.

A conversation's pages are for its two people only: anyone else, the secretariat
included, is refused 403 (signed out, 401), and no cache on the way keeps them.
`contact.js` adds new messages as they arrive; without it the page is complete and
each form posts and redirects (303).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from forum.actions.contacts import do_answer_contact, do_send_contact_message
from forum.db.contact_queries import (
    Conversation,
    get_conversation,
    get_directory_item,
    get_message,
    list_messages,
    list_my_requests,
)
from forum.domain.contacts import ContactStatus, check_read_contact
from forum.errors import N_, ForumError
from forum.web.api_discussions import throttle
from forum.web.forms import field, read_form
from forum.web.http import app_state, db
from forum.web.pages import page_context
from forum.web.pages_group import require_signed_in
from forum.web.templates import render

PRIVATE = "private, no-store"
# Where a request stands, as the pages say it.
STATUS_NAMES = {
    ContactStatus.PENDING.value: N_("waiting for an answer"),
    ContactStatus.ACCEPTED.value: N_("accepted"),
    ContactStatus.DECLINED.value: N_("declined"),
}


def _private(response: Response) -> Response:
    response.headers["Cache-Control"] = PRIVATE
    return response


async def requests_page(request: Request) -> Response:
    caller = await require_signed_in(request)
    async with db(request) as session:
        items = await list_my_requests(session, caller.user.id)
        listed = await get_directory_item(session, caller.user.id)
    return _private(
        render(
            request,
            "contacts/requests.html",
            await page_context(
                request,
                statuses=STATUS_NAMES,
                listed=listed,
                sent=[item for item in items if item.sent],
                received=[item for item in items if not item.sent],
            ),
        )
    )


async def _readable(request: Request) -> tuple[int, Conversation]:
    caller = await require_signed_in(request)
    async with db(request) as session:
        found = await get_conversation(session, request.path_params["contact_request_id"])
    check_read_contact(found.parties, caller.user.id)
    return caller.user.id, found


async def render_conversation(
    request: Request,
    *,
    form: str | None = None,
    values: dict[str, Any] | None = None,
    error: ForumError | None = None,
    status: int = 200,
) -> Response:
    me_id, found = await _readable(request)
    async with db(request) as session:
        messages = await list_messages(session, found.request.id)
    return _private(
        render(
            request,
            "contacts/conversation.html",
            await page_context(
                request,
                statuses=STATUS_NAMES,
                conversation=found,
                request_row=found.request,
                other=found.other(me_id),
                is_contact=me_id == found.request.contact_id,
                messages=messages,
                form=form,
                values={"body": "", "reason": "", **(values or {})},
                error=error,
                notice=request.query_params.get("done"),
            ),
            status=status,
        )
    )


async def conversation_page(request: Request) -> Response:
    return await render_conversation(request)


def _back(request_id: int, done: str, anchor: str = "") -> Response:
    return RedirectResponse(f"/contacts/{request_id}?done={done}{anchor}", status_code=303)


async def _answer_form(request: Request, *, accept: bool) -> Response:
    form = await read_form(request)
    caller = await require_signed_in(request)
    request_id = request.path_params["contact_request_id"]
    reason = field(form, "reason")
    try:
        async with db(request) as session:
            await do_answer_contact(
                session,
                app_state(request)["broker"],
                user_id=caller.user.id,
                request_id=request_id,
                accept=accept,
                reason=reason,
            )
    except ForumError as error:
        if error.status in {401, 403, 404}:
            raise
        return await render_conversation(
            request, form="answer", values={"reason": reason}, error=error, status=error.status
        )
    return _back(request_id, "accepted" if accept else "declined")


async def accept_form(request: Request) -> Response:
    return await _answer_form(request, accept=True)


async def decline_form(request: Request) -> Response:
    return await _answer_form(request, accept=False)


async def message_form(request: Request) -> Response:
    form = await read_form(request)
    caller = await require_signed_in(request)
    request_id = request.path_params["contact_request_id"]
    body = field(form, "body")
    try:
        async with db(request) as session:
            view = await do_send_contact_message(
                session,
                app_state(request)["broker"],
                throttle(request),
                user_id=caller.user.id,
                request_id=request_id,
                body=body,
            )
    except ForumError as error:
        if error.status in {401, 403, 404}:
            raise
        return await render_conversation(
            request, form="message", values={"body": body}, error=error, status=error.status
        )
    return _back(request_id, "sent", f"#message-{view.message.seq}")


async def message_article(request: Request) -> Response:
    """One message as the conversation's page shows it, for `contact.js` to insert."""
    _, found = await _readable(request)
    async with db(request) as session:
        view = await get_message(session, found.request.id, request.path_params["seq"])
    return _private(
        render(request, "contacts/message.html", await page_context(request, view=view))
    )


routes = [
    Route("/contacts", requests_page, methods=["GET"]),
    Route("/contacts/{contact_request_id:id}", conversation_page, methods=["GET"]),
    Route("/contacts/{contact_request_id:id}/accept", accept_form, methods=["POST"]),
    Route("/contacts/{contact_request_id:id}/decline", decline_form, methods=["POST"]),
    Route("/contacts/{contact_request_id:id}/messages", message_form, methods=["POST"]),
    Route(
        "/contacts/{contact_request_id:id}/messages/{seq:id}/article",
        message_article,
        methods=["GET"],
    ),
]
