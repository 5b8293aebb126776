"""Text a database column can store: no NUL (PostgreSQL refuses it in text, and it
cuts strings short in C code around SQLite), no unpaired surrogate (not UTF-8 at all,
so no driver can send it). Both arrive by JSON escapes (`\\u0000`, `\\ud800`) or
percent-encoding, and are refused where input is parsed, for HTTP and WebSocket alike."""

from __future__ import annotations

import re
from typing import Any

from forum.errors import N_, Phrase

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def unstorable_text(text: str) -> str | None:
    """What is wrong with `text`, or None when it can be stored."""
    found = _UNSTORABLE.search(text)
    if found is None:
        return None
    point = f"U+{ord(found.group()):04X}"
    if found.group() == "\x00":
        return Phrase(N_("a NUL character ({point})"), point=point)
    return Phrase(N_("an unpaired surrogate ({point})"), point=point)


def shown(text: str) -> str:
    """`text` with what cannot be stored (nor sent back) written as `\\uXXXX`."""
    return _UNSTORABLE.sub(lambda found: f"\\u{ord(found.group()):04x}", text)


def find_unstorable(value: Any) -> tuple[str, str] | None:
    """The first string in a parsed JSON value (keys included) that cannot be stored:
    (where, as a dotted path safe to send back, and what is wrong), or None."""
    stack: list[tuple[str, Any]] = [("", value)]
    while stack:
        where, item = stack.pop()
        if isinstance(item, str):
            if (problem := unstorable_text(item)) is not None:
                return where, problem
        elif isinstance(item, dict):
            for key, child in item.items():
                place = f"{where}.{shown(str(key))}" if where else shown(str(key))
                if (problem := unstorable_text(str(key))) is not None:
                    return place, problem
                stack.append((place, child))
        elif isinstance(item, list):
            stack.extend((f"{where}.{i}" if where else str(i), c) for i, c in enumerate(item))
    return None
