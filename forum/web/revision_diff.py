"""What changed between two versions of a post, word by word.

The diff is of the Markdown source, the text its author wrote, not of the rendered
HTML: a change of markup then reads as the change of the characters typed, and the
output is plain text for the template to escape. Lines, then words and the whitespace
between them, are the tokens, so that the text is given back exactly, line breaks
included.
"""

from __future__ import annotations

import re
from difflib import SequenceMatcher
from typing import Literal

Op = Literal["same", "ins", "del"]
Segment = tuple[Op, str]

_TOKENS = re.compile(r"\s+|\S+")
_LINES = re.compile(r"[^\n]*\n|[^\n]+")
# The word matcher's cost grows with the product of the two runs' lengths, and worse
# on prose, whose common words match everywhere: past this many token pairs in one
# changed run (about 250 words on each side), the run is shown as one removal and one
# addition rather than costing seconds.
MAX_WORK = 250_000


def word_diff(old: str, new: str) -> list[Segment]:
    """`old` turned into `new` as runs of kept, added and removed text.

    Lines are matched first (a post's paragraphs are mostly unique lines, so this is
    cheap), then the words of each run of changed lines, as git's word diff does.
    """
    a, b = _LINES.findall(old), _LINES.findall(new)
    segments: list[Segment] = []
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            segments.append(("same", "".join(a[i1:i2])))
        else:
            segments += _words("".join(a[i1:i2]), "".join(b[j1:j2]))
    return _merged(segments)


def _words(old: str, new: str) -> list[Segment]:
    a, b = _TOKENS.findall(old), _TOKENS.findall(new)
    if len(a) * len(b) > MAX_WORK:
        return [("del", old), ("ins", new)]
    segments: list[Segment] = []
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            segments.append(("same", "".join(a[i1:i2])))
        else:
            segments += [("del", "".join(a[i1:i2])), ("ins", "".join(b[j1:j2]))]
    return segments


def _merged(segments: list[Segment]) -> list[Segment]:
    """No empty runs, and no two runs of the same kind side by side."""
    merged: list[Segment] = []
    for op, text in segments:
        if not text:
            continue
        if merged and merged[-1][0] == op:
            merged[-1] = (op, merged[-1][1] + text)
        else:
            merged.append((op, text))
    return merged


def revision_diffs(bodies: list[str]) -> list[list[Segment] | None]:
    """For each version, what changed from the one before (None for the first)."""
    return [None if i == 0 else word_diff(bodies[i - 1], body) for i, body in enumerate(bodies)]
