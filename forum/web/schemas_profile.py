"""Request and response shapes of the profile and the secretariat's JSON API."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from forum.domain.vocabulary import Family, GroupKind
from forum.web.schemas import Strict


class ProfileBody(Strict):
    """Fields left out keep their value; an empty `language` or `time_zone` (or null)
    follows the browser."""

    display_name: str | None = Field(default=None, max_length=100)
    organization: str | None = Field(default=None, max_length=200)
    country: str | None = Field(default=None, max_length=2, description="ISO 3166-1 alpha-2")
    language: str | None = Field(default=None, max_length=16, description="en, fr or es")
    time_zone: str | None = Field(default=None, max_length=64, description="An IANA name")


class PasswordBody(Strict):
    current_password: str = Field(max_length=1024)
    password: str = Field(max_length=256, description="The new password")


class FamilyBody(Strict):
    family: Family


class FamilyRequestOut(BaseModel):
    id: int
    user_id: int
    family: Family
    previous: Family
    status: Literal["pending", "approved", "refused"]
    created_at: datetime
    decided_at: datetime | None


class FamilyRequestState(BaseModel):
    request: FamilyRequestOut | None = Field(description="The pending request, if any")


class FamilyRequestList(BaseModel):
    requests: list[FamilyRequestOut]


class DecisionBody(Strict):
    decision: Literal["approve", "refuse"]


class GroupEditBody(Strict):
    name: str = Field(max_length=200)
    description: str = Field(default="", max_length=20_000)
    region: str | None = Field(default=None, max_length=40)
    action_lines: list[str] = Field(default_factory=list, max_length=40)


class GroupCreateBody(GroupEditBody):
    slug: str = Field(max_length=80)
    kind: GroupKind
    family: Family


class ActionLineEditBody(Strict):
    title: str = Field(max_length=300)
    description: str = Field(default="", max_length=20_000)
    facilitators: list[str] = Field(default_factory=list, max_length=20)
