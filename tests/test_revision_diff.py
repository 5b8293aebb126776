"""The word diff of two versions of a post: runs of kept, removed and added text that
give back both versions exactly."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from forum.web import revision_diff
from forum.web.revision_diff import revision_diffs, word_diff


def _side(segments: Sequence[tuple[str, str]], keep: str) -> str:
    return "".join(text for op, text in segments if op in ("same", keep))


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("a b c", "a b c", [("same", "a b c")]),
        ("a b c", "a x c", [("same", "a "), ("del", "b"), ("ins", "x"), ("same", " c")]),
        ("a c", "a b c", [("same", "a "), ("ins", "b "), ("same", "c")]),
        ("a b c", "a c", [("same", "a "), ("del", "b "), ("same", "c")]),
        ("", "new", [("ins", "new")]),
        ("old", "", [("del", "old")]),
        (
            "line one\n\nline two",
            "line one\nline two",
            [("same", "line one\n"), ("del", "\n"), ("same", "line two")],
        ),
        (
            "keep\nold word\nkeep",
            "keep\nnew word\nkeep",
            [("same", "keep\n"), ("del", "old"), ("ins", "new"), ("same", " word\nkeep")],
        ),
    ],
)
def test_word_diff(old: str, new: str, expected: list[tuple[str, str]]) -> None:
    segments = word_diff(old, new)
    assert segments == expected
    assert _side(segments, "del") == old and _side(segments, "ins") == new


def test_two_unlike_long_texts_are_one_removal_and_one_addition(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(revision_diff, "MAX_WORK", 10)
    old, new = "a b c d e f", "u v w x y z"
    assert word_diff(old, new) == [("del", old), ("ins", new)]


def test_each_version_against_the_one_before() -> None:
    assert revision_diffs([]) == []
    assert revision_diffs(["one", "one two"]) == [None, [("same", "one"), ("ins", " two")]]
