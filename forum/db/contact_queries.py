"""Reads of the contact point directory and of contact requests and their conversations.

The directory shows what anyone may see of a person (never an e-mail address) and what
the contact point says of themselves. A request's reads return its two people; who may
see it is the caller's check (`forum.domain.contacts.check_read_contact`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from forum.db.models import (
    ContactEntry,
    ContactMessage,
    ContactRequest,
    Group,
    GroupActionLine,
    Membership,
    User,
)
from forum.domain.contacts import Parties
from forum.domain.vocabulary import Role
from forum.errors import N_, ErrorCode, ForumError

# A conversation's page shows its latest messages, and its stream replays at most these.
MESSAGES_SHOWN = 500


@dataclass
class DirectoryItem:
    """A contact point as the directory lists them."""

    user_id: int
    display_name: str
    organization: str
    country: str
    family: str
    region: str  # the region they cover, or that of their country
    expertise: str = ""
    languages: list[str] = field(default_factory=list)
    groups: list[tuple[str, str]] = field(default_factory=list)  # (slug, name)

    def wire(self) -> dict[str, Any]:
        return {
            "user": {
                "id": self.user_id,
                "display_name": self.display_name,
                "organization": self.organization,
                "country": self.country,
                "family": self.family,
            },
            "region": self.region,
            "expertise": self.expertise,
            "languages": list(self.languages),
            "groups": [{"slug": slug, "name": name} for slug, name in self.groups],
        }


async def _directory(session: AsyncSession, group_ids: Sequence[int]) -> list[DirectoryItem]:
    """The contact points of these groups, by name, each once with all their groups."""
    if not group_ids:
        return []
    rows = await session.execute(
        select(User, Group.slug, Group.name, ContactEntry)
        .join(Membership, Membership.user_id == User.id)
        .join(Group, Group.id == Membership.group_id)
        .outerjoin(ContactEntry, ContactEntry.user_id == User.id)
        .where(
            Membership.group_id.in_(group_ids),
            Membership.role == Role.CONTACT_POINT.value,
            User.is_active.is_(True),
        )
        .order_by(User.display_name, User.id, Group.name)
    )
    items: dict[int, DirectoryItem] = {}
    for user, slug, name, found in rows.all():
        entry: ContactEntry | None = found  # an outer join: None without an entry
        item = items.get(user.id)
        if item is None:
            item = items[user.id] = DirectoryItem(
                user.id,
                user.display_name,
                user.organization,
                user.country,
                user.family,
                (entry.region if entry is not None else None) or user.region,
                entry.expertise if entry is not None else "",
                list(entry.languages) if entry is not None else [],
            )
        item.groups.append((slug, name))
    return list(items.values())


async def list_line_contact_points(session: AsyncSession, line_id: int) -> list[DirectoryItem]:
    """The contact points of every group that follows the action line or theme."""
    found = await session.scalars(
        select(GroupActionLine.group_id).where(GroupActionLine.action_line_id == line_id)
    )
    return await _directory(session, list(found.all()))


async def list_group_contact_points(session: AsyncSession, group_id: int) -> list[DirectoryItem]:
    return await _directory(session, [group_id])


async def get_directory_item(session: AsyncSession, user_id: int) -> DirectoryItem | None:
    """One contact point's entry with every group they are a contact point of; None when
    the person is not one."""
    groups = await session.scalars(
        select(Membership.group_id).where(
            Membership.user_id == user_id, Membership.role == Role.CONTACT_POINT.value
        )
    )
    found = [
        item for item in await _directory(session, list(groups.all())) if item.user_id == user_id
    ]
    return found[0] if found else None


async def is_contact_point(session: AsyncSession, user_id: int) -> bool:
    found = await session.scalar(
        select(Membership.id)
        .join(User, User.id == Membership.user_id)
        .where(
            Membership.user_id == user_id,
            Membership.role == Role.CONTACT_POINT.value,
            User.is_active.is_(True),
        )
        .limit(1)
    )
    return found is not None


async def statuses_between(session: AsyncSession, one: int, other: int) -> list[str]:
    """The statuses of the requests made between two people, either way."""
    found = await session.scalars(
        select(ContactRequest.status).where(
            or_(
                (ContactRequest.requester_id == one) & (ContactRequest.contact_id == other),
                (ContactRequest.requester_id == other) & (ContactRequest.contact_id == one),
            )
        )
    )
    return list(found.all())


@dataclass(frozen=True)
class Conversation:
    """A request with its two people."""

    request: ContactRequest
    requester: User
    contact: User

    @property
    def parties(self) -> Parties:
        return Parties(self.request.requester_id, self.request.contact_id, self.request.status)

    def other(self, user_id: int) -> User:
        return self.contact if user_id == self.request.requester_id else self.requester

    def wire(self, *, messages: int | None = None) -> dict[str, Any]:
        request = self.request
        data: dict[str, Any] = {
            "id": request.id,
            "requester": self.requester.public(),
            "contact": self.contact.public(),
            "status": request.status,
            "message": {"body": request.body, "html": request.html},
            "reason": request.reason,
            "created_at": request.created_at.isoformat(),
            "answered_at": request.answered_at.isoformat() if request.answered_at else None,
            "last_activity_at": request.last_activity_at.isoformat(),
            "seq": request.last_seq,
        }
        if messages is not None:
            data["message_count"] = messages
        return data


async def get_conversation(
    session: AsyncSession, request_id: int, *, lock: bool = False
) -> Conversation:
    requester = aliased(User)
    contact = aliased(User)
    query = (
        select(ContactRequest, requester, contact)
        .join(requester, requester.id == ContactRequest.requester_id)
        .join(contact, contact.id == ContactRequest.contact_id)
        .where(ContactRequest.id == request_id)
    )
    if lock:
        query = query.with_for_update(of=ContactRequest).execution_options(populate_existing=True)
    row = (await session.execute(query)).first()
    if row is None:
        raise ForumError(ErrorCode.NOT_FOUND, N_("No such contact request."))
    return Conversation(row[0], row[1], row[2])


@dataclass(frozen=True)
class MessageView:
    message: ContactMessage
    author: User

    def wire(self) -> dict[str, Any]:
        message = self.message
        return {
            "id": message.id,
            "seq": message.seq,
            "request_id": message.request_id,
            "author": {"id": self.author.id, "display_name": self.author.display_name},
            "body": message.body,
            "html": message.html,
            "created_at": message.created_at.isoformat(),
        }


async def list_messages(
    session: AsyncSession, request_id: int, *, after: int = 0, limit: int = MESSAGES_SHOWN
) -> list[MessageView]:
    """The conversation's messages after `after`, oldest first: the latest `limit` of
    them on a page (`after` 0), the first `limit` after a stream's last id."""
    query = (
        select(ContactMessage, User)
        .join(User, User.id == ContactMessage.author_id)
        .where(ContactMessage.request_id == request_id, ContactMessage.seq > after)
    )
    if after:
        rows = await session.execute(query.order_by(ContactMessage.seq).limit(limit))
        return [MessageView(*row) for row in rows.all()]
    rows = await session.execute(query.order_by(ContactMessage.seq.desc()).limit(limit))
    return [MessageView(*row) for row in reversed(rows.all())]


async def get_message(session: AsyncSession, request_id: int, seq: int) -> MessageView:
    row = (
        await session.execute(
            select(ContactMessage, User)
            .join(User, User.id == ContactMessage.author_id)
            .where(ContactMessage.request_id == request_id, ContactMessage.seq == seq)
        )
    ).first()
    if row is None:
        raise ForumError(ErrorCode.NOT_FOUND, N_("No such message."))
    return MessageView(row[0], row[1])


@dataclass(frozen=True)
class RequestItem:
    """A line of a person's list of requests: the request, the other person, and how
    many messages its conversation holds."""

    conversation: Conversation
    messages: int
    sent: bool  # the person sent it (else it was sent to them)


async def list_my_requests(session: AsyncSession, user_id: int) -> list[RequestItem]:
    """Every request the person sent or received, the most recently active first."""
    requester = aliased(User)
    contact = aliased(User)
    counts = (
        select(ContactMessage.request_id, func.count().label("n"))
        .group_by(ContactMessage.request_id)
        .subquery()
    )
    rows = await session.execute(
        select(ContactRequest, requester, contact, func.coalesce(counts.c.n, 0))
        .join(requester, requester.id == ContactRequest.requester_id)
        .join(contact, contact.id == ContactRequest.contact_id)
        .outerjoin(counts, counts.c.request_id == ContactRequest.id)
        .where(or_(ContactRequest.requester_id == user_id, ContactRequest.contact_id == user_id))
        .order_by(ContactRequest.last_activity_at.desc(), ContactRequest.id.desc())
        .limit(MESSAGES_SHOWN)
    )
    return [
        RequestItem(Conversation(request, asker, asked), int(n), request.requester_id == user_id)
        for request, asker, asked, n in rows.all()
    ]
