"""The secretariat's rules for the structure it keeps: who may, and what a group, an
action line or a change of stakeholder family must be."""

from __future__ import annotations

import re

from forum.domain.permissions import Action, may
from forum.domain.textcheck import clean_line
from forum.domain.vocabulary import Family, GroupKind
from forum.errors import N_, ErrorCode, ForumError

# A slug is a group's address (/groups/<slug>): lower-case letters, digits and inner
# hyphens, so that it reads the same in every script and never needs escaping.
_SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,78}[a-z0-9])?$")
MAX_FACILITATORS = 20


def check_keep_structure(*, is_secretariat: bool) -> None:
    if not may(Action.KEEP_STRUCTURE, None, is_secretariat=is_secretariat):
        raise ForumError(ErrorCode.FORBIDDEN, N_("Only the secretariat may do this."))


def check_slug(value: str) -> str:
    slug = value.strip()
    if not _SLUG.match(slug):
        raise ForumError(
            ErrorCode.VALIDATION,
            N_(
                "The address may hold lower-case letters, digits and hyphens only "
                "(at most 80, not starting or ending with a hyphen)."
            ),
            field="slug",
        )
    return slug


def check_kind(value: str) -> GroupKind:
    try:
        return GroupKind(value)
    except ValueError:
        raise ForumError(
            ErrorCode.VALIDATION, N_("Choose the kind of group."), field="kind"
        ) from None


def check_family(value: str, *, field: str = "family") -> Family:
    try:
        return Family(value)
    except ValueError:
        raise ForumError(
            ErrorCode.VALIDATION, N_("Choose a stakeholder family."), field=field
        ) from None


def family_key(key: str, *, field: str) -> Family:
    """A key of a per-family map (budgets, observer seats) read as its family."""
    try:
        return Family(key)
    except ValueError:
        raise ForumError(
            ErrorCode.VALIDATION,
            N_("Unknown stakeholder family {family}."),
            field=field,
            params={"family": repr(key)},
        ) from None


def check_family_change(current: str, requested: str) -> Family:
    """The family a person asks to move to: a known one, other than their own."""
    family = check_family(requested)
    if family == current:
        raise ForumError(
            ErrorCode.VALIDATION,
            N_("This is your stakeholder family already."),
            field="family",
        )
    return family


def check_facilitators(text: str) -> list[str]:
    """One facilitating organization per line; blank lines are left out."""
    names = [clean_line(line, field="facilitators") for line in text.splitlines() if line.strip()]
    if len(names) > MAX_FACILITATORS:
        raise ForumError(
            ErrorCode.VALIDATION,
            N_("At most {max} facilitators."),
            field="facilitators",
            params={"max": MAX_FACILITATORS},
        )
    return names
