"""The rules for the text people write: one-line fields and bodies.

Every one-line field (display names, organizations, thread and session titles, group
names) goes through `clean_line`; every body (posts, agendas, interventions) through
`clean_body`. They run where a value enters, before anything is stored.

- A **line** is refused (VALIDATION, naming the field) if it holds a control
  character, a line or paragraph separator, an unpaired surrogate, or any
  default-ignorable code point (`forum.domain.ignorable`): a name shows what it is,
  so `Ad<U+00AD>min` cannot pass for `Admin`, and no name is blank. The one exception:
  ZWNJ or ZWJ between two letters of a script that shapes letters with them (Persian,
  Hindi, Sinhala), where they are part of the spelling.
- A **body** is refused if it holds a control character other than tab and line
  breaks, or an unpaired surrogate. The default-ignorable code points that only hide
  or reorder text are stripped from it, silently since nobody sees them go; those that
  scripts and emoji need to render are kept (`BODY_KEEPS`).
"""

from __future__ import annotations

import re
import unicodedata

from forum.domain.ignorable import ignorable_class, is_default_ignorable
from forum.errors import N_, ErrorCode, ForumError

MAX_BODY_BYTES = 64 * 1024
MAX_TITLE_CHARS = 200

BODY_KEEPS = frozenset(
    {
        # ZWNJ and ZWJ: Persian and the Indic scripts choose letter forms with them,
        # and emoji sequences (a family, a flag with a rainbow) are joined by ZWJ.
        0x200C,
        0x200D,
        # The direction marks writers of Arabic and Hebrew place by hand; unlike the
        # embeddings, overrides and isolates they reorder nothing but neutrals.
        0x061C,
        0x200E,
        0x200F,
        # Variation selectors: emoji against text presentation (U+FE0F), ideographic
        # variants of CJK characters (U+E0100-E01EF), Mongolian letter forms.
        *range(0xFE00, 0xFE10),
        *range(0xE0100, 0xE01F0),
        0x180B,
        0x180C,
        0x180D,
        0x180F,
    }
)

# Tag characters are kept in one place only: spelling an emoji subdivision flag after
# U+1F3F4 WAVING BLACK FLAG (England, Scotland, Wales), where the tag letters name
# the region. Anywhere else a run of tags is ASCII text no reader sees.
_FLAG_TAGS = "\U0001f3f4[\U000e0030-\U000e0039\U000e0061-\U000e007a]{3,6}\U000e007f"
_HIDDEN_RE = re.compile(f"({_FLAG_TAGS})|{ignorable_class(keep=BODY_KEEPS)}+")
# C0 and C1 controls and DEL; tab, newline and carriage return are text.
_BODY_CONTROL_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_SURROGATE_RE = re.compile("[\ud800-\udfff]")
# Blank to the eye though neither whitespace nor ignorable.
_BLANK_SYMBOLS = frozenset("\u2800")


def _refuse(message: str, field: str, **params: object) -> ForumError:
    """`message` (marked with `N_`) names the field `{name}`, and may name `params`."""
    return ForumError(ErrorCode.VALIDATION, message, field=field, params={"name": field, **params})


def _point(char: str) -> str:
    return f"U+{ord(char):04X}"


def strip_hidden(text: str) -> str:
    """`text` without the default-ignorable code points that hide or reorder what a
    reader sees; those of `BODY_KEEPS`, and emoji subdivision flags, stay."""
    return _HIDDEN_RE.sub(lambda match: match.group(1) or "", text)


def clean_body(
    value: object,
    *,
    field: str = "body",
    max_bytes: int | None = MAX_BODY_BYTES,
    max_chars: int | None = None,
    required: bool = True,
    trim: bool = False,
) -> str:
    """Validate a body and return what is stored.

    Refuses (VALIDATION, with `field`) what is not text, unpaired surrogates, control
    characters other than tab, newline and carriage return, and a blank body when
    `required` (an optional blank body is ""). Normalizes line breaks to `\\n`, strips
    hidden characters (`strip_hidden`), and the outer blanks when `trim`. A body over
    `max_bytes` of UTF-8 or `max_chars` characters, once cleaned, is TOO_LARGE.
    """
    if not isinstance(value, str):
        raise _refuse(N_("{name} must be text"), field)
    if _SURROGATE_RE.search(value):
        raise _refuse(N_("{name} is not valid Unicode (an unpaired surrogate)"), field)
    if control := _BODY_CONTROL_RE.search(value):
        raise _refuse(
            N_("{name} contains a control character ({point}); remove it"),
            field,
            point=_point(control.group()),
        )
    text = strip_hidden(value.replace("\r\n", "\n").replace("\r", "\n"))
    if trim:
        text = text.strip()
    if not text.strip():
        if required:
            raise _refuse(N_("{name} must not be blank"), field)
        return ""
    if max_chars is not None and len(text) > max_chars:
        raise ForumError(
            ErrorCode.TOO_LARGE,
            N_("{name} is longer than {max} characters"),
            field=field,
            params={"name": field, "max": max_chars},
        )
    if max_bytes is not None and len(text.encode("utf-8")) > max_bytes:
        raise ForumError(
            ErrorCode.TOO_LARGE,
            N_("{name} is larger than {max} bytes"),
            field=field,
            params={"name": field, "max": max_bytes},
        )
    return text


# Scripts whose letters take their forms from ZWNJ and ZWJ (Arabic and its extensions,
# Syriac, the Brahmic scripts of South and Southeast Asia): a Persian or a Hindi title
# needs them between two letters, where they change the letter forms, not the text.
_JOINING_SCRIPTS = (
    (0x0600, 0x074F),
    (0x0750, 0x077F),
    (0x0870, 0x08FF),
    (0x0900, 0x0DFF),
    (0x1000, 0x109F),
    (0x1780, 0x17FF),
    (0xFB50, 0xFDFF),
    (0xFE70, 0xFEFF),
)
_JOINERS = frozenset("\u200c\u200d")


def _joining_letter(char: str) -> bool:
    code = ord(char)
    return unicodedata.category(char)[0] in "LM" and any(
        low <= code <= high for low, high in _JOINING_SCRIPTS
    )


def _needed_joiner(text: str, index: int) -> bool:
    """A ZWNJ or ZWJ between two letters of a joining script shapes them; anywhere
    else (between Latin letters, at an end, doubled) it only hides a difference."""
    return (
        text[index] in _JOINERS
        and 0 < index < len(text) - 1
        and _joining_letter(text[index - 1])
        and _joining_letter(text[index + 1])
    )


def _line_problem(char: str) -> str | None:
    """The refusal's message for `char` in a line, a whole sentence for translators."""
    category = unicodedata.category(char)
    if category == "Cc":
        return N_("{name} contains a control character ({point}); remove it")
    if category in ("Zl", "Zp"):
        return N_("{name} contains a line break ({point}); remove it")
    if category == "Cs":
        return N_("{name} contains an unpaired surrogate ({point}); remove it")
    if is_default_ignorable(char):
        return N_("{name} contains an invisible character ({point}); remove it")
    return None


def clean_line(
    value: object, *, field: str, max_chars: int = MAX_TITLE_CHARS, min_chars: int = 1
) -> str:
    """Validate a one-line text: names, titles, organizations.

    Strips the outer whitespace and NFC-normalizes; refuses (VALIDATION, with `field`)
    what is not text, an empty line, one with no visible character, any control
    character, line or paragraph separator, unpaired surrogate or default-ignorable
    code point, and a length (in code points, after normalization) outside
    `min_chars`..`max_chars`.
    """
    if not isinstance(value, str):
        raise _refuse(N_("{name} must be text"), field)
    text = unicodedata.normalize("NFC", value.strip())
    if not text:
        raise _refuse(N_("{name} must not be empty"), field)
    for index, char in enumerate(text):
        if (problem := _line_problem(char)) and not _needed_joiner(text, index):
            raise _refuse(problem, field, point=_point(char))
    if not any(
        unicodedata.category(char)[0] in "LNPS" and char not in _BLANK_SYMBOLS for char in text
    ):
        raise _refuse(N_("{name} must contain a visible character"), field)
    if len(text) < min_chars:
        raise _refuse(N_("{name} must be at least {min} characters"), field, min=min_chars)
    if len(text) > max_chars:
        raise _refuse(N_("{name} must be at most {max} characters"), field, max=max_chars)
    return text
