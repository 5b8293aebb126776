"""The secretariat's structure rules: who may keep it, slugs, kinds, families,
facilitators."""

from __future__ import annotations

import pytest

from forum.domain.structure import (
    MAX_FACILITATORS,
    check_facilitators,
    check_family,
    check_family_change,
    check_keep_structure,
    check_kind,
    check_slug,
)
from forum.domain.vocabulary import Family, GroupKind
from forum.errors import ErrorCode, ForumError


def test_only_the_secretariat_keeps_the_structure() -> None:
    check_keep_structure(is_secretariat=True)
    with pytest.raises(ForumError) as refused:
        check_keep_structure(is_secretariat=False)
    assert refused.value.code == ErrorCode.FORBIDDEN


@pytest.mark.parametrize("slug", ["a", "c3-caucus", "wg-2026", "x" * 80, " padded "])
def test_slugs_accepted(slug: str) -> None:
    assert check_slug(slug) == slug.strip()


@pytest.mark.parametrize(
    "slug", ["", "-lead", "trail-", "Upper", "with space", "é", "x" * 81, "a/b", "a_b"]
)
def test_slugs_refused_beside_their_field(slug: str) -> None:
    with pytest.raises(ForumError) as refused:
        check_slug(slug)
    assert (refused.value.code, refused.value.field) == (ErrorCode.VALIDATION, "slug")


def test_kinds_and_families() -> None:
    assert check_kind("bureau") is GroupKind.BUREAU
    assert check_family("government") is Family.GOVERNMENT
    with pytest.raises(ForumError) as kind:
        check_kind("club")
    assert kind.value.field == "kind"
    with pytest.raises(ForumError) as family:
        check_family("", field="new_family")
    assert family.value.field == "new_family"


def test_a_family_change_names_another_known_family() -> None:
    assert check_family_change("civil_society", "government") is Family.GOVERNMENT
    with pytest.raises(ForumError) as same:
        check_family_change("civil_society", "civil_society")
    assert same.value.message == "This is your stakeholder family already."
    with pytest.raises(ForumError) as unknown:
        check_family_change("civil_society", "media")
    assert unknown.value.field == "family"


def test_facilitators_one_per_line() -> None:
    assert check_facilitators("ITU\n\n  UNESCO \r\nUNDP") == ["ITU", "UNESCO", "UNDP"]
    assert check_facilitators("") == []
    with pytest.raises(ForumError) as many:
        check_facilitators("\n".join(f"Org {n}" for n in range(MAX_FACILITATORS + 1)))
    assert many.value.field == "facilitators"
    with pytest.raises(ForumError) as hidden:
        check_facilitators("IT\u200bU")
    assert hidden.value.field == "facilitators"
