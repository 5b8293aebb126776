"""Request and response shapes of the contact points' JSON API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from forum.domain.contacts import MAX_EXPERTISE_CHARS, MAX_LANGUAGE_CHARS, MAX_LANGUAGES
from forum.domain.regions import REGIONS
from forum.domain.vocabulary import Family
from forum.web.params import Id
from forum.web.schemas import PublicUser, Strict

Status = Literal["pending", "accepted", "declined"]


class ContactEntryBody(Strict):
    expertise: str = Field(default="", max_length=MAX_EXPERTISE_CHARS)
    languages: list[Annotated[str, Field(max_length=MAX_LANGUAGE_CHARS)]] = Field(
        default_factory=list, max_length=MAX_LANGUAGES
    )
    region: str | None = Field(
        default=None,
        max_length=40,
        description="The region covered: " + ", ".join(REGIONS) + "; null: that of one's country",
    )


class DirectoryUser(BaseModel):
    id: int
    display_name: str
    organization: str
    country: str
    family: Family


class GroupName(BaseModel):
    slug: str
    name: str


class DirectoryEntry(BaseModel):
    user: DirectoryUser
    region: str
    expertise: str
    languages: list[str]
    groups: list[GroupName] = Field(description="The groups they are a contact point of")


class LineRef(BaseModel):
    code: str
    title: str
    facilitators: list[str] = Field(description="The facilitating UN agencies")


class LineDirectory(BaseModel):
    action_line: LineRef
    contact_points: list[DirectoryEntry]


class GroupDirectory(BaseModel):
    group: GroupName
    contact_points: list[DirectoryEntry]


class ContactRequestBody(Strict):
    contact_id: Id
    body: str = Field(description="The message of the request (Markdown)")


class ContactAnswerBody(Strict):
    reason: str = Field(default="", max_length=500, description="Why, when declining")


class ContactMessageBody(Strict):
    body: str = Field(description="Markdown")


class Rendered(BaseModel):
    body: str
    html: str


class RequestOut(BaseModel):
    id: int
    requester: PublicUser
    contact: PublicUser
    status: Status
    message: Rendered
    reason: str
    created_at: datetime
    answered_at: datetime | None
    last_activity_at: datetime
    seq: int = Field(description="The conversation's last change, to resume its stream from")


class RequestItem(RequestOut):
    message_count: int


class RequestList(BaseModel):
    requests: list[RequestItem]


class Author(BaseModel):
    id: int
    display_name: str


class MessageOut(BaseModel):
    id: int
    seq: int
    request_id: int
    author: Author
    body: str
    html: str
    created_at: datetime


class ConversationOut(BaseModel):
    request: RequestOut
    messages: list[MessageOut]
