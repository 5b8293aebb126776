"""Unicode's Default_Ignorable_Code_Point property, as a table.

A default-ignorable code point is one a renderer shows as nothing when it has no
special treatment for it: the soft hyphen, the joiners, the bidi controls, variation
selectors, the Hangul fillers, the tag characters. That is the set that lets a name
look like another, or a text carry what no reader sees.

The table is copied from the Unicode Character Database's `DerivedCoreProperties.txt`
(Unicode 15.0.0), one line of the file per row, because neither `unicodedata` nor the
general category gives it: category `Cf` misses the Hangul fillers, the combining
grapheme joiner and the variation selectors, and holds visible characters such as
U+0600 ARABIC NUMBER SIGN. Unassigned code points inside
these ranges are reserved as ignorable by the standard, so they are listed too.
"""

from __future__ import annotations

from bisect import bisect_right

DEFAULT_IGNORABLE: tuple[tuple[int, int], ...] = (
    (0x00AD, 0x00AD),  # SOFT HYPHEN
    (0x034F, 0x034F),  # COMBINING GRAPHEME JOINER
    (0x061C, 0x061C),  # ARABIC LETTER MARK
    (0x115F, 0x1160),  # HANGUL CHOSEONG FILLER..HANGUL JUNGSEONG FILLER
    (0x17B4, 0x17B5),  # KHMER VOWEL INHERENT AQ..KHMER VOWEL INHERENT AA
    (0x180B, 0x180D),  # MONGOLIAN FREE VARIATION SELECTOR ONE..THREE
    (0x180E, 0x180E),  # MONGOLIAN VOWEL SEPARATOR
    (0x180F, 0x180F),  # MONGOLIAN FREE VARIATION SELECTOR FOUR
    (0x200B, 0x200F),  # ZERO WIDTH SPACE..RIGHT-TO-LEFT MARK
    (0x202A, 0x202E),  # LEFT-TO-RIGHT EMBEDDING..RIGHT-TO-LEFT OVERRIDE
    (0x2060, 0x2064),  # WORD JOINER..INVISIBLE PLUS
    (0x2065, 0x2065),  # <reserved-2065>
    (0x2066, 0x206F),  # LEFT-TO-RIGHT ISOLATE..NOMINAL DIGIT SHAPES
    (0x3164, 0x3164),  # HANGUL FILLER
    (0xFE00, 0xFE0F),  # VARIATION SELECTOR-1..VARIATION SELECTOR-16
    (0xFEFF, 0xFEFF),  # ZERO WIDTH NO-BREAK SPACE
    (0xFFA0, 0xFFA0),  # HALFWIDTH HANGUL FILLER
    (0xFFF0, 0xFFF8),  # <reserved-FFF0>..<reserved-FFF8>
    (0x1BCA0, 0x1BCA3),  # SHORTHAND FORMAT LETTER OVERLAP..SHORTHAND FORMAT UP STEP
    (0x1D173, 0x1D17A),  # MUSICAL SYMBOL BEGIN BEAM..MUSICAL SYMBOL END PHRASE
    (0xE0000, 0xE0000),  # <reserved-E0000>
    (0xE0001, 0xE0001),  # LANGUAGE TAG
    (0xE0002, 0xE001F),  # <reserved-E0002>..<reserved-E001F>
    (0xE0020, 0xE007F),  # TAG SPACE..CANCEL TAG
    (0xE0080, 0xE00FF),  # <reserved-E0080>..<reserved-E00FF>
    (0xE0100, 0xE01EF),  # VARIATION SELECTOR-17..VARIATION SELECTOR-256
    (0xE01F0, 0xE0FFF),  # <reserved-E01F0>..<reserved-E0FFF>
)

_STARTS = tuple(start for start, _ in DEFAULT_IGNORABLE)


def is_default_ignorable(char: str) -> bool:
    """Whether the one character `char` has Default_Ignorable_Code_Point."""
    point = ord(char)
    index = bisect_right(_STARTS, point) - 1
    return index >= 0 and point <= DEFAULT_IGNORABLE[index][1]


def ignorable_class(*, keep: frozenset[int] = frozenset()) -> str:
    """A regular expression character class of the table, less the code points in
    `keep`: for stripping all of them in one pass."""
    parts: list[str] = []
    for start, end in DEFAULT_IGNORABLE:
        run_start: int | None = None
        for point in range(start, end + 2):
            inside = point <= end and point not in keep
            if inside and run_start is None:
                run_start = point
            elif not inside and run_start is not None:
                last = point - 1
                parts.append(
                    chr(run_start) if run_start == last else f"{chr(run_start)}-{chr(last)}"
                )
                run_start = None
    return "[" + "".join(parts) + "]"
