"""Contact points over JSON: the public directory per action line and per group, a
contact point's own entry, contact requests, their answers, and the private
conversations that follow (with a server-sent event stream for each).

A conversation is read by its two people only: anyone else, the secretariat included, is
refused 403, signed out 401. No answer carries an e-mail address.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from forum.actions.contacts import (
    contact_channel,
    do_answer_contact,
    do_request_contact,
    do_save_contact_entry,
    do_send_contact_message,
)
from forum.auth import Principal
from forum.db.contact_queries import (
    Conversation,
    get_conversation,
    get_directory_item,
    list_group_contact_points,
    list_line_contact_points,
    list_messages,
    list_my_requests,
)
from forum.db.discussions_queries import get_board_line
from forum.db.queries import require_group
from forum.domain.contacts import check_contact_entry, check_read_contact
from forum.errors import N_, ErrorCode, ForumError
from forum.web.api_discussions import throttle
from forum.web.http import app_state, db, json_response, principal, read_json, require_principal
from forum.web.openapi import ApiRouter
from forum.web.schemas_contacts import (
    ContactAnswerBody,
    ContactEntryBody,
    ContactMessageBody,
    ContactRequestBody,
    ConversationOut,
    DirectoryEntry,
    GroupDirectory,
    LineDirectory,
    MessageOut,
    RequestList,
    RequestOut,
)
from forum.web.sse import event_stream, last_event_id
from forum.wire.streams import StreamEvent

router = ApiRouter(tag="contacts")
# What only two people may read is kept by no cache on the way.
PRIVATE = {"Cache-Control": "private, no-store"}


@router.route(
    "GET",
    "/action-lines/{code}/contact-points",
    summary="The contact points of the groups following an action line, and its facilitators",
    response=LineDirectory,
    errors=(404,),
)
async def line_directory(request: Request) -> Response:
    async with db(request) as session:
        line = await get_board_line(session, request.path_params["code"])
        items = await list_line_contact_points(session, line.id)
    return json_response(
        {
            "action_line": {
                "code": line.code,
                "title": line.title,
                "facilitators": list(line.facilitators),
            },
            "contact_points": [item.wire() for item in items],
        }
    )


@router.route(
    "GET",
    "/groups/{slug}/contact-points",
    summary="The contact points of a group (a caucus, a working group)",
    response=GroupDirectory,
    errors=(404,),
)
async def group_directory(request: Request) -> Response:
    async with db(request) as session:
        group = await require_group(session, request.path_params["slug"])
        items = await list_group_contact_points(session, group.id)
    return json_response(
        {
            "group": {"slug": group.slug, "name": group.name},
            "contact_points": [item.wire() for item in items],
        }
    )


async def _entry_json(request: Request, user_id: int) -> dict[str, Any]:
    async with db(request) as session:
        item = await get_directory_item(session, user_id)
    if item is None:
        raise ForumError(ErrorCode.NOT_FOUND, N_("This person is not listed as a contact point."))
    return item.wire()


@router.route(
    "GET",
    "/contact-points/{user_id:id}",
    summary="A contact point's directory entry",
    response=DirectoryEntry,
    errors=(404,),
)
async def contact_point(request: Request) -> Response:
    return json_response(await _entry_json(request, request.path_params["user_id"]))


@router.route(
    "PUT",
    "/me/contact-entry",
    summary="A contact point sets their expertise, languages and the region they cover",
    body=ContactEntryBody,
    response=DirectoryEntry,
    auth="required",
)
async def save_entry(request: Request) -> Response:
    caller = await require_principal(request)
    body = await read_json(request, ContactEntryBody)
    fields = check_contact_entry(
        expertise=body.expertise, languages=body.languages, region=body.region
    )
    async with db(request) as session:
        await do_save_contact_entry(session, user_id=caller.user.id, fields=fields)
    return json_response(await _entry_json(request, caller.user.id))


@router.route(
    "GET",
    "/contact-requests",
    summary="The contact requests one sent and received, the most recently active first",
    response=RequestList,
    auth="required",
)
async def my_requests(request: Request) -> Response:
    caller = await require_principal(request)
    async with db(request) as session:
        items = await list_my_requests(session, caller.user.id)
    return json_response(
        {"requests": [item.conversation.wire(messages=item.messages) for item in items]},
        headers=PRIVATE,
    )


@router.route(
    "POST",
    "/contact-requests",
    summary="A government delegate asks a contact point for a conversation",
    body=ContactRequestBody,
    response=RequestOut,
    status=201,
    auth="required",
    errors=(404, 409, 429),
)
async def send_request(request: Request) -> Response:
    caller = await require_principal(request)
    body = await read_json(request, ContactRequestBody)
    async with db(request) as session:
        found = await do_request_contact(
            session,
            throttle(request),
            user_id=caller.user.id,
            contact_id=body.contact_id,
            body=body.body,
        )
    return json_response(found.wire(), status=201, headers=PRIVATE)


async def readable(request: Request) -> tuple[Principal, Conversation]:
    """The caller and the conversation they may read: 401 signed out, 404 for no such
    request, 403 for anyone but its two people."""
    caller = await principal(request)
    if caller is None:
        raise ForumError(ErrorCode.UNAUTHENTICATED, N_("Sign in first."))
    async with db(request) as session:
        found = await get_conversation(session, request.path_params["contact_request_id"])
    check_read_contact(found.parties, caller.user.id)
    return caller, found


@router.route(
    "GET",
    "/contact-requests/{contact_request_id:id}",
    summary="A contact request and its conversation (its two people only)",
    response=ConversationOut,
    auth="required",
    errors=(404,),
)
async def conversation(request: Request) -> Response:
    _, found = await readable(request)
    async with db(request) as session:
        messages = await list_messages(session, found.request.id)
    return json_response(
        {"request": found.wire(), "messages": [m.wire() for m in messages]}, headers=PRIVATE
    )


async def _answer(request: Request, *, accept: bool) -> Response:
    caller = await require_principal(request)
    reason = "" if accept else (await read_json(request, ContactAnswerBody)).reason
    async with db(request) as session:
        found = await do_answer_contact(
            session,
            app_state(request)["broker"],
            user_id=caller.user.id,
            request_id=request.path_params["contact_request_id"],
            accept=accept,
            reason=reason,
        )
    return json_response(found.wire(), headers=PRIVATE)


@router.route(
    "POST",
    "/contact-requests/{contact_request_id:id}/accept",
    summary="The contact point accepts the request: the conversation opens",
    response=RequestOut,
    auth="required",
    errors=(404, 409),
)
async def accept(request: Request) -> Response:
    return await _answer(request, accept=True)


@router.route(
    "POST",
    "/contact-requests/{contact_request_id:id}/decline",
    summary="The contact point declines the request, with a reason if they give one",
    body=ContactAnswerBody,
    response=RequestOut,
    auth="required",
    errors=(404, 409),
)
async def decline(request: Request) -> Response:
    return await _answer(request, accept=False)


@router.route(
    "POST",
    "/contact-requests/{contact_request_id:id}/messages",
    summary="Write in an accepted request's conversation",
    body=ContactMessageBody,
    response=MessageOut,
    status=201,
    auth="required",
    errors=(404, 409, 429),
)
async def send_message(request: Request) -> Response:
    caller = await require_principal(request)
    body = await read_json(request, ContactMessageBody)
    async with db(request) as session:
        view = await do_send_contact_message(
            session,
            app_state(request)["broker"],
            throttle(request),
            user_id=caller.user.id,
            request_id=request.path_params["contact_request_id"],
            body=body.body,
        )
    return json_response(view.wire(), status=201, headers=PRIVATE)


@router.route(
    "GET",
    "/contact-requests/{contact_request_id:id}/events",
    summary="Server-sent events of a conversation: its answer and new messages",
    auth="required",
    errors=(404, 422, 429, 503),
    media_type="text/event-stream",
    query=[("after", "seq to replay from on a first connection (Last-Event-ID wins)")],
)
async def conversation_events(request: Request) -> Response:
    caller, found = await readable(request)
    request_id = found.request.id

    async def replay(after: int) -> list[tuple[int, str, StreamEvent]]:
        async with db(request) as session:
            fresh = await get_conversation(session, request_id)
            messages = await list_messages(session, request_id, after=after)
        changes: list[tuple[int, str, StreamEvent]] = [
            (
                m.message.seq,
                "message",
                {"type": "message", "op": "replay", "seq": m.message.seq, "message": m.wire()},
            )
            for m in messages
        ]
        answer = fresh.request.answer_seq
        if answer > after:
            changes.append(
                (
                    answer,
                    "request",
                    {"type": "request", "op": "replay", "seq": answer, "request": fresh.wire()},
                )
            )
        return sorted(changes, key=lambda change: change[0])

    # The stream is private: it ends with the session that opened it.
    return await event_stream(
        request, contact_channel(request_id), last_event_id(request), replay, session=caller
    )
