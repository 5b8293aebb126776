"""What changed between two versions of a post, word by word.

The diff is of the Markdown source, the text its author wrote, not of the rendered
HTML: a change of markup then reads as the change of the characters typed, and the
output is plain text for the template to escape. Words and the whitespace between
them are the tokens, so that the text is given back exactly, line breaks included.
"""

from __future__ import annotations

import re
from difflib import SequenceMatcher
from typing import Literal

Op = Literal["same", "ins", "del"]
Segment = tuple[Op, str]

_TOKENS = re.compile(r"\s+|\S+")
# Past this many token comparisons the matcher's quadratic worst case costs seconds:
# two versions that share so little are shown as one removal and one addition.
MAX_WORK = 4_000_000


def word_diff(old: str, new: str) -> list[Segment]:
    """`old` turned into `new` as runs of kept, added and removed text."""
    a, b = _TOKENS.findall(old), _TOKENS.findall(new)
    # The common start and end are most of an edit, and cost nothing to set aside.
    start = 0
    while start < min(len(a), len(b)) and a[start] == b[start]:
        start += 1
    end = 0
    while end < min(len(a), len(b)) - start and a[-1 - end] == b[-1 - end]:
        end += 1
    middle_a, middle_b = a[start : len(a) - end], b[start : len(b) - end]
    segments: list[Segment] = [("same", "".join(a[:start]))]
    if len(middle_a) * len(middle_b) > MAX_WORK:
        segments += [("del", "".join(middle_a)), ("ins", "".join(middle_b))]
    else:
        matcher = SequenceMatcher(None, middle_a, middle_b, autojunk=False)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag == "equal":
                segments.append(("same", "".join(middle_a[i1:i2])))
                continue
            segments.append(("del", "".join(middle_a[i1:i2])))
            segments.append(("ins", "".join(middle_b[j1:j2])))
    segments.append(("same", "".join(a[len(a) - end :])))
    return _merged(segments)


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
