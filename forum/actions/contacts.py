"""Contact points: their directory entries, the requests sent to them, the answers they
give, and the messages of the private conversations that follow.

Each action takes ids and the acting person's id, opens its own transaction, reads what
it checks fresh inside it, applies the rule of `forum.domain.contacts`, writes, and
publishes on the conversation's channel after commit (`committing`). A refusal writes
nothing and publishes nothing. Bodies are checked and rendered (`render_body`) before the
transaction, as posts are, and messages and requests count against the post limits.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from forum.actions.outbox import committing
from forum.broker import Broker
from forum.db.base import utcnow
from forum.db.contact_queries import (
    Conversation,
    MessageView,
    get_conversation,
    is_contact_point,
    statuses_between,
)
from forum.db.engine import write_transaction
from forum.db.models import ContactEntry, ContactMessage, ContactRequest, User
from forum.domain.contacts import (
    ContactStatus,
    EntryFields,
    check_answer_contact,
    check_request_contact,
    check_write_contact,
    clean_reason,
)
from forum.errors import N_, ErrorCode, ForumError
from forum.limits import PostThrottle
from forum.text import render_body
from forum.wire.streams import MessageEvent, RequestEvent


def contact_channel(request_id: int) -> str:
    """A conversation's changes: its answer and its messages, for its two people only."""
    return f"contact:{request_id}"


async def _person(session: AsyncSession, user_id: int, *, lock: bool = False) -> User:
    query = select(User).where(User.id == user_id, User.is_active.is_(True))
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    found = await session.scalar(query)
    if found is None:
        raise ForumError(ErrorCode.NOT_FOUND, N_("No such person."), field="contact_id")
    return found


async def do_save_contact_entry(
    session: AsyncSession, *, user_id: int, fields: EntryFields
) -> ContactEntry:
    """A contact point says what they know, the languages they speak and the region
    they cover; only a contact point has an entry."""
    async with write_transaction(session):
        if not await is_contact_point(session, user_id):
            raise ForumError(
                ErrorCode.NOT_CONTACT_POINT, N_("Only a contact point has a directory entry.")
            )
        entry = await session.get(ContactEntry, user_id, with_for_update=True)
        if entry is None:
            entry = ContactEntry(user_id=user_id)
            session.add(entry)
        entry.expertise = fields.expertise
        entry.languages = list(fields.languages)
        entry.region = fields.region
        entry.updated_at = utcnow()
    return entry


async def do_request_contact(
    session: AsyncSession,
    throttle: PostThrottle,
    *,
    user_id: int,
    contact_id: int,
    body: str,
) -> Conversation:
    """A government delegate asks a contact point for a conversation, with a message."""
    text = await render_body(body)
    async with write_transaction(session):
        # Both people locked in the order of their ids: two requests between the same
        # two, either way, are decided one after the other.
        first, second = sorted((user_id, contact_id))
        people = {first: await _person(session, first, lock=True)}
        if second != first:
            people[second] = await _person(session, second, lock=True)
        requester, contact = people[user_id], people[contact_id]
        check_request_contact(
            requester_id=user_id,
            requester_family=requester.family,
            contact_id=contact_id,
            is_contact_point=await is_contact_point(session, contact_id),
            between=await statuses_between(session, user_id, contact_id),
        )
        await throttle.count(user_id)
        now = utcnow()
        request = ContactRequest(
            requester_id=user_id,
            contact_id=contact_id,
            body=text.body,
            html=text.html,
            status=ContactStatus.PENDING.value,
            reason="",
            created_at=now,
            last_seq=0,
            answer_seq=0,
            last_activity_at=now,
        )
        session.add(request)
        await session.flush()
    return Conversation(request, requester, contact)


async def do_answer_contact(
    session: AsyncSession,
    broker: Broker,
    *,
    user_id: int,
    request_id: int,
    accept: bool,
    reason: str = "",
) -> Conversation:
    """The contact point accepts the request (the conversation opens) or declines it,
    with a reason if they give one."""
    why = "" if accept else clean_reason(reason)
    async with committing(session, broker) as outbox:
        found = await get_conversation(session, request_id, lock=True)
        check_answer_contact(found.parties, user_id)
        request = found.request
        request.status = (ContactStatus.ACCEPTED if accept else ContactStatus.DECLINED).value
        request.reason = why
        request.answered_at = request.last_activity_at = utcnow()
        request.last_seq += 1
        request.answer_seq = request.last_seq
        answered: RequestEvent = {
            "type": "request",
            "op": "accepted" if accept else "declined",
            "seq": request.last_seq,
            "request": found.wire(),
        }
        outbox.add(contact_channel(request.id), answered)
    return found


async def do_send_contact_message(
    session: AsyncSession,
    broker: Broker,
    throttle: PostThrottle,
    *,
    user_id: int,
    request_id: int,
    body: str,
) -> MessageView:
    """One of the two writes in their conversation, once it is accepted."""
    text = await render_body(body)
    async with committing(session, broker) as outbox:
        found = await get_conversation(session, request_id, lock=True)
        check_write_contact(found.parties, user_id)
        await throttle.count(user_id)
        request = found.request
        request.last_seq += 1
        now = request.last_activity_at = utcnow()
        message = ContactMessage(
            request_id=request.id,
            seq=request.last_seq,
            author_id=user_id,
            body=text.body,
            html=text.html,
            created_at=now,
        )
        session.add(message)
        await session.flush()
        author = found.requester if user_id == request.requester_id else found.contact
        view = MessageView(message, author)
        sent: MessageEvent = {
            "type": "message",
            "op": "new",
            "seq": message.seq,
            "message": view.wire(),
        }
        outbox.add(contact_channel(request.id), sent)
    return view
