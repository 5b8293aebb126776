"""The forum's vocabulary as enums (see docs: stakeholder families, groups, roles)."""

from __future__ import annotations

from enum import StrEnum


class Family(StrEnum):
    GOVERNMENT = "government"
    CIVIL_SOCIETY = "civil_society"
    PRIVATE_SECTOR = "private_sector"
    INTERNATIONAL_ORG = "international_org"


class GroupKind(StrEnum):
    WORKING_GROUP = "working_group"
    CAUCUS = "caucus"
    BUREAU = "bureau"
    PLENARY = "plenary"
    TEAM = "team"


class Role(StrEnum):
    CHAIR = "chair"
    COORDINATOR = "coordinator"
    MEMBER = "member"
    CONTACT_POINT = "contact_point"
    OBSERVER = "observer"


class Seat(StrEnum):
    PARTICIPANT = "participant"
    REMOTE = "remote"
    OBSERVER = "observer"


class ActionLineKind(StrEnum):
    ACTION_LINE = "action_line"
    THEME = "theme"
