"""Numbers where they enter over HTTP, bounded by what a column holds: ids in paths
(the `{name:id}` convertor), in query strings and forms, and in JSON bodies (`Id`).

A path id no row can have does not match its route at all (404, no handler runs); a
query, form or body field out of range is a 422 naming the field. Without the bounds
such a number reaches the driver, which cannot bind it: a 500.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field
from starlette.convertors import Convertor, register_url_convertor

from forum.db.base import ID_MAX
from forum.errors import N_, ErrorCode, ForumError

Id = Annotated[int, Field(ge=1, le=ID_MAX)]


def decimal_up_to(limit: int) -> str:
    """A regular expression matching the decimal numbers 0..limit exactly, so that the
    router itself refuses a larger one."""
    digits = str(limit)
    options = [f"[0-9]{{1,{len(digits) - 1}}}"] if len(digits) > 1 else []
    for i, digit in enumerate(digits):
        if digit != "0":
            rest = len(digits) - i - 1
            tail = f"[0-9]{{{rest}}}" if rest else ""
            options.append(f"{digits[:i]}[0-{int(digit) - 1}]{tail}")
    options.append(digits)
    return "(?:" + "|".join(options) + ")"


class IdConvertor(Convertor[int]):
    regex = decimal_up_to(ID_MAX)

    def convert(self, value: str) -> int:
        return int(value)

    def to_string(self, value: int) -> str:
        if not 0 <= value <= ID_MAX:
            raise ValueError(f"{value} is not an id")
        return str(value)


register_url_convertor("id", IdConvertor())


def form_id(raw: str, name: str) -> int | None:
    """An id from a form field or link: None when empty or not a number (it names
    nothing), refused when no row can have it."""
    raw = raw.strip()
    if not raw.isdigit():
        return None
    if len(raw) > len(str(ID_MAX)) or int(raw) > ID_MAX:
        raise ForumError(
            ErrorCode.VALIDATION,
            N_("'{name}' must be at most {max}."),
            field=name,
            params={"name": name, "max": ID_MAX},
        )
    return int(raw)
