"""Request and response shapes of the foundation's JSON API (they feed /openapi.json)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from forum.domain.vocabulary import Family, Role


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_max_length=100_000)


class RegisterBody(Strict):
    email: str = Field(max_length=254)
    password: str = Field(max_length=256)
    display_name: str = Field(max_length=100)
    # A plain string, so that check_register names the field in its refusal; the
    # document lists the values it accepts.
    family: str = Field(
        max_length=40,
        description="A stakeholder family",
        json_schema_extra={"enum": [f.value for f in Family]},
    )
    organization: str = Field(max_length=200)
    country: str = Field(max_length=2, description="ISO 3166-1 alpha-2 code")


class LoginBody(Strict):
    email: str = Field(max_length=320)
    password: str = Field(max_length=1024)


class JoinBody(Strict):
    role: Literal["member", "observer"] | None = None


class RoleBody(Strict):
    role: Role


class PublicUser(BaseModel):
    id: int
    display_name: str
    family: Family
    organization: str
    country: str
    region: str


class GroupRef(BaseModel):
    slug: str
    name: str
    kind: str
    role: Role


class Me(PublicUser):
    email: str
    is_secretariat: bool
    memberships: list[GroupRef]


class SignedIn(BaseModel):
    user: Me
    csrf_token: str | None = Field(
        default=None, description="Send back as X-CSRF-Token on cookie-authenticated writes"
    )


class TokenOut(BaseModel):
    token: str = Field(description="Send as 'Authorization: Bearer <token>'")
    user: Me


class ActionLineOut(BaseModel):
    code: str
    kind: Literal["action_line", "theme"]
    title: str
    description: str
    facilitators: list[str]


class ActionLineList(BaseModel):
    action_lines: list[ActionLineOut]


class GroupOut(BaseModel):
    slug: str
    name: str
    kind: str
    family: Family
    region: str | None
    description: str
    action_lines: list[str]
    member_count: int


class GroupList(BaseModel):
    groups: list[GroupOut]


class MemberOut(BaseModel):
    user: PublicUser
    role: Role


class GroupDetail(GroupOut):
    members: list[MemberOut]


class MembershipOut(BaseModel):
    group: str
    user_id: int
    role: Role | None


class Health(BaseModel):
    status: Literal["ok"]
    database: Literal["ok"]
    broker: Literal["ok"]
