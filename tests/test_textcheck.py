"""The rules for text fields (`forum.domain.textcheck`) and the table of
default-ignorable code points they rest on."""

from __future__ import annotations

import re
import sys
import unicodedata

import pytest

from forum.domain.ignorable import DEFAULT_IGNORABLE, ignorable_class, is_default_ignorable
from forum.domain.textcheck import (
    BODY_KEEPS,
    MAX_BODY_BYTES,
    MAX_TITLE_CHARS,
    clean_body,
    clean_line,
    strip_hidden,
)
from forum.errors import ErrorCode, ForumError
from tests.text_corpus import (
    BODY_KEPT,
    BODY_STRIPPED,
    CONTROLS,
    LINE_CORPUS,
    point,
)

# ---- the table


def _ignorable_points() -> list[int]:
    return [c for start, end in DEFAULT_IGNORABLE for c in range(start, end + 1)]


def test_table_is_sorted_and_disjoint() -> None:
    for (_, end), (start, _) in zip(DEFAULT_IGNORABLE, DEFAULT_IGNORABLE[1:], strict=False):
        assert end < start
    assert all(start <= end for start, end in DEFAULT_IGNORABLE)
    # The count DerivedCoreProperties.txt gives for the property (Unicode 15.0).
    assert len(_ignorable_points()) == 4174


def test_is_default_ignorable_matches_the_table_everywhere() -> None:
    members = set(_ignorable_points())
    assert [c for c in range(sys.maxunicode + 1) if is_default_ignorable(chr(c))] == sorted(members)


@pytest.mark.parametrize(
    "char", ["\u034f", "\u115f", "\u3164", "\ufe0f", "\U000e0100", "\u2065"], ids=point
)
def test_ignorable_beyond_format_characters(char: str) -> None:
    """Category Cf alone would let these through."""
    assert unicodedata.category(char) != "Cf"
    assert is_default_ignorable(char)


@pytest.mark.parametrize("char", ["\u0600", "\u06dd", "\ufff9", "A", " ", "\u2028", "\x00"])
def test_visible_format_characters_are_not_ignorable(char: str) -> None:
    assert not is_default_ignorable(char)


def test_ignorable_class_leaves_out_what_is_kept() -> None:
    pattern = re.compile(ignorable_class(keep=frozenset({0x200C, 0x200D})))
    assert pattern.fullmatch("\u200b") and pattern.fullmatch("\u200e")
    assert not pattern.fullmatch("\u200c") and not pattern.fullmatch("\u200d")
    assert pattern.fullmatch("\U000e0fff") and not pattern.fullmatch("\U000e1000")


# ---- clean_body


def _refusal(excinfo: pytest.ExceptionInfo[ForumError], code: ErrorCode, field: str) -> None:
    assert excinfo.value.code is code
    assert excinfo.value.field == field


@pytest.mark.parametrize(
    ("unit", "count"),
    [("a", MAX_BODY_BYTES), ("é", MAX_BODY_BYTES // 2), ("€", MAX_BODY_BYTES // 3),
     ("😀", MAX_BODY_BYTES // 4 - 1)],
)  # fmt: skip
def test_clean_body_size_limit_counts_bytes(unit: str, count: int) -> None:
    body = unit * count
    body += "a" * (MAX_BODY_BYTES - len(body.encode()))
    assert len(body.encode()) == MAX_BODY_BYTES
    assert clean_body(body) == body
    with pytest.raises(ForumError) as excinfo:
        clean_body(body + "a")
    _refusal(excinfo, ErrorCode.TOO_LARGE, "body")
    assert excinfo.value.status == 413
    # The same number of characters, one byte more.
    widened = body[:-1] + {"a": "é", "é": "€"}[body[-1]]
    assert len(widened) == len(body) <= MAX_BODY_BYTES
    with pytest.raises(ForumError) as excinfo:
        clean_body(widened)
    _refusal(excinfo, ErrorCode.TOO_LARGE, "body")


def test_clean_body_max_bytes_and_field() -> None:
    assert clean_body("abcd", max_bytes=4, field="agenda") == "abcd"
    with pytest.raises(ForumError) as excinfo:
        clean_body("abcé", max_bytes=4, field="agenda")
    _refusal(excinfo, ErrorCode.TOO_LARGE, "agenda")


@pytest.mark.parametrize("body", ["", " ", "\n\n", " \t\r\n ", "\u3000"])
def test_clean_body_refuses_blank(body: str) -> None:
    with pytest.raises(ForumError) as excinfo:
        clean_body(body)
    _refusal(excinfo, ErrorCode.VALIDATION, "body")


@pytest.mark.parametrize("char", [chr(c) for c in range(0x20) if chr(c) not in "\t\n\r"])
def test_clean_body_refuses_c0_controls(char: str) -> None:
    with pytest.raises(ForumError) as excinfo:
        clean_body(f"hello{char}world")
    _refusal(excinfo, ErrorCode.VALIDATION, "body")
    assert excinfo.value.status == 422


@pytest.mark.parametrize("body", [b"not text", None, 42, "\ud800 lone surrogate"])
def test_clean_body_refuses_non_text(body: object) -> None:
    with pytest.raises(ForumError) as excinfo:
        clean_body(body)
    _refusal(excinfo, ErrorCode.VALIDATION, "body")


def test_clean_body_normalizes_newlines_and_keeps_tabs() -> None:
    assert clean_body("a\r\nb\rc\n\td") == "a\nb\nc\n\td"
    assert clean_body("  indented code\n") == "  indented code\n"


# ---- clean_line

LINE_FORBIDDEN = [
    *LINE_CORPUS, "\u200e", "\u200f", "\u061c",
    "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u180e",
    "\x00", "\x07", "\t", "\n", "\r", "\x1b", "\x7f", "\x85", "\u2028", "\u2029", "\u3164",
]  # fmt: skip


@pytest.mark.parametrize(
    "value",
    [
        template.format(char)
        for char in LINE_FORBIDDEN
        # Whitespace at either end is stripped, not refused.
        for template in (["Al{}ice"] if char.isspace() else ["{}Alice", "Al{}ice", "Alice{}"])
    ],
)
def test_clean_line_refuses_invisible_and_control(value: str) -> None:
    with pytest.raises(ForumError) as excinfo:
        clean_line(value, field="display_name")
    _refusal(excinfo, ErrorCode.VALIDATION, "display_name")


@pytest.mark.parametrize(
    "value",
    ["مرحبا بالعالم", "שלום עולם", "中华人民共和国代表团", "José Müller", "Zoë Ångström",
     "Nguyễn Thị Minh Khai", "Ελληνικά", "O'Brien-Smith & Co.", "日本語 (にほんご)"],
)  # fmt: skip
def test_clean_line_accepts_scripts(value: str) -> None:
    assert clean_line(value, field="name") == value


def test_clean_line_strips_and_normalizes() -> None:
    assert clean_line("  Jose\u0301  \n", field="name") == "José"


@pytest.mark.parametrize("value", ["", "   ", "\t\n"])
def test_clean_line_refuses_empty(value: str) -> None:
    with pytest.raises(ForumError) as excinfo:
        clean_line(value, field="title")
    _refusal(excinfo, ErrorCode.VALIDATION, "title")


def test_clean_line_length_in_characters_after_normalization() -> None:
    assert clean_line("é" * MAX_TITLE_CHARS, field="title") == "é" * MAX_TITLE_CHARS
    assert clean_line("e\u0301" * MAX_TITLE_CHARS, field="title") == "é" * MAX_TITLE_CHARS
    with pytest.raises(ForumError) as excinfo:
        clean_line("é" * (MAX_TITLE_CHARS + 1), field="title")
    _refusal(excinfo, ErrorCode.VALIDATION, "title")


def test_clean_line_custom_bounds() -> None:
    assert clean_line("abc", field="code", min_chars=3, max_chars=3) == "abc"
    for value in ("ab", "abcd"):
        with pytest.raises(ForumError) as excinfo:
            clean_line(value, field="code", min_chars=3, max_chars=3)
        _refusal(excinfo, ErrorCode.VALIDATION, "code")


def test_clean_line_refuses_non_text() -> None:
    with pytest.raises(ForumError) as excinfo:
        clean_line(None, field="name")
    _refusal(excinfo, ErrorCode.VALIDATION, "name")


def test_clean_line_refuses_every_default_ignorable_code_point() -> None:
    for code in _ignorable_points():
        with pytest.raises(ForumError) as excinfo:
            clean_line(f"Ad{chr(code)}min", field="display_name")
        _refusal(excinfo, ErrorCode.VALIDATION, "display_name")
        assert f"U+{code:04X}" in excinfo.value.message


@pytest.mark.parametrize("char", CONTROLS, ids=point)
def test_clean_line_names_a_control_character(char: str) -> None:
    with pytest.raises(ForumError) as excinfo:
        clean_line(f"Ad{char}min", field="title")
    _refusal(excinfo, ErrorCode.VALIDATION, "title")
    assert "control character" in excinfo.value.message


@pytest.mark.parametrize("value", ["\u2800", "\u2800 \u2800", "\u0301", "\u3000\u0301"])
def test_clean_line_refuses_a_line_nothing_shows(value: str) -> None:
    with pytest.raises(ForumError) as excinfo:
        clean_line(value, field="display_name")
    _refusal(excinfo, ErrorCode.VALIDATION, "display_name")


@pytest.mark.parametrize(
    "value",
    ["\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645",  # Persian "I want", with ZWNJ
     "\u0915\u094d\u200d\u0937",  # Devanagari conjunct with ZWJ
     "\u0dc1\u0dca\u200d\u0dbb\u0dd3"],  # Sinhala "Sri"
)  # fmt: skip
def test_clean_line_keeps_joiners_that_shape_letters(value: str) -> None:
    assert clean_line(value, field="title") == value


@pytest.mark.parametrize(
    "value",
    ["Ad\u200cmin", "Ad\u200dmin", "\u200c\u0645\u06cc", "\u0645\u06cc\u200c",
     "\u0645\u200c\u200c\u06cc", "\u0645\u200c Alice", "Alice\u200d\u0645"],
)  # fmt: skip
def test_clean_line_refuses_joiners_that_shape_nothing(value: str) -> None:
    with pytest.raises(ForumError) as excinfo:
        clean_line(value, field="title")
    _refusal(excinfo, ErrorCode.VALIDATION, "title")


@pytest.mark.parametrize("char", ["\ud800", "\udfff"], ids=point)
def test_clean_line_names_an_unpaired_surrogate(char: str) -> None:
    with pytest.raises(ForumError) as excinfo:
        clean_line(f"Al{char}ice", field="display_name")
    _refusal(excinfo, ErrorCode.VALIDATION, "display_name")
    assert "unpaired surrogate" in excinfo.value.message and point(char) in excinfo.value.message


def test_clean_line_accepts_emoji_without_selectors() -> None:
    assert clean_line("Team \U0001f30d", field="name") == "Team \U0001f30d"


# ---- what bodies keep and lose


@pytest.mark.parametrize("char", BODY_STRIPPED, ids=point)
def test_hidden_characters_are_stripped_from_bodies(char: str) -> None:
    assert clean_body(f"Ad{char}min {char}said") == "Admin said"
    assert clean_body(f"x{char}", field="agenda", trim=True) == "x"


@pytest.mark.parametrize("text", BODY_KEPT)
def test_what_scripts_and_emoji_need_is_kept_in_bodies(text: str) -> None:
    assert clean_body(text) == text
    assert strip_hidden(f"a {text} b") == f"a {text} b"


def test_every_stripped_character_is_ignorable_and_every_other_is_kept() -> None:
    for code in _ignorable_points():
        char = chr(code)
        expected = char if code in BODY_KEEPS else ""
        assert strip_hidden(f"a{char}b") == f"a{expected}b", point(char)


def test_tag_characters_only_survive_as_a_subdivision_flag() -> None:
    smuggled = "".join(chr(0xE0000 + ord(c)) for c in "ignore the chair")
    assert clean_body(f"Agreed.{smuggled}") == "Agreed."
    # Too long for a subdivision, or not closed by CANCEL TAG: not a flag.
    black_flag = "\U0001f3f4"
    long_tag = "".join(chr(0xE0000 + ord(c)) for c in "gbscotland") + "\U000e007f"
    assert clean_body(f"{black_flag}{long_tag}") == black_flag
    assert clean_body(f"{black_flag}\U000e0067\U000e0062\U000e0073") == black_flag


def test_a_body_of_hidden_characters_is_blank() -> None:
    with pytest.raises(ForumError) as excinfo:
        clean_body("\u200b\u00ad\u2060")
    _refusal(excinfo, ErrorCode.VALIDATION, "body")
    assert clean_body("\u200b", field="agenda", required=False) == ""


@pytest.mark.parametrize("char", CONTROLS, ids=point)
def test_clean_body_refuses_c0_c1_and_nul(char: str) -> None:
    with pytest.raises(ForumError) as excinfo:
        clean_body(f"hello{char}world", field="agenda", required=False)
    _refusal(excinfo, ErrorCode.VALIDATION, "agenda")
    assert point(char) in excinfo.value.message


def test_clean_body_max_chars_counts_what_is_stored() -> None:
    assert clean_body(" abc\u200b ", max_chars=3, trim=True) == "abc"
    with pytest.raises(ForumError) as excinfo:
        clean_body("abcd", max_chars=3, field="body")
    _refusal(excinfo, ErrorCode.TOO_LARGE, "body")
