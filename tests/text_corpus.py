"""Characters that would disguise text, for the tests of every text field."""

from __future__ import annotations

BIDI_CONTROLS = [chr(c) for c in [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]]
ZERO_WIDTH = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff"]
SOFT_HYPHEN = "\u00ad"
CGJ = "\u034f"
TAGS = ["\U000e0001", "\U000e0020", "\U000e0041", "\U000e007f"]
C0 = ["\x01", "\x07", "\x08", "\x0b", "\x0c", "\x1b", "\x1f", "\x7f"]
C1 = ["\x80", "\x85", "\x9b", "\x9f"]
NUL = "\x00"

INVISIBLE = [*BIDI_CONTROLS, *ZERO_WIDTH, SOFT_HYPHEN, CGJ, *TAGS]
CONTROLS = [*C0, *C1, NUL]
# Refused in every one-line field.
LINE_CORPUS = [*INVISIBLE, *CONTROLS]
# Bodies refuse the controls and are stored without these.
BODY_STRIPPED = [
    *BIDI_CONTROLS,
    "\u200b",
    "\u2060",
    "\ufeff",
    SOFT_HYPHEN,
    CGJ,
    *TAGS,
    "\u3164",
    "\u180e",
]

# What scripts and emoji need, kept in bodies: Persian with ZWNJ, Devanagari with ZWJ
# and ZWNJ, a ZWJ emoji family, a heart with its emoji presentation selector, the flag
# of Scotland (a tag sequence), and Hebrew with a right-to-left mark.
BODY_KEPT = [
    "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645",
    "\u0915\u094d\u200d\u0937 \u0915\u094d\u200c\u0937",
    "\U0001f468\u200d\U0001f469\u200d\U0001f467",
    "\u2764\ufe0f",
    "\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f",
    "\u05e9\u05dc\u05d5\u05dd\u200f 2005",
]


def point(char: str) -> str:
    return f"U+{ord(char):04X}"
