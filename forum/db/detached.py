"""Entities built from the rows of a Core read (`forum.db.one_trip`), detached with
every column loaded, as they would come out of a session that was then closed: the
reads a live room's joins make are single trips, not ORM queries in a transaction."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar, cast

from sqlalchemy import Table
from sqlalchemy.orm import make_transient_to_detached

from forum.db.base import Base

M = TypeVar("M", bound=Base)


def columns_of(model: type[Base]) -> tuple[str, ...]:
    """The entity's columns in table order (attributes are named as their columns)."""
    return tuple(column.key for column in cast(Table, model.__table__).columns)


def detached(model: type[M], keys: Sequence[str], values: Sequence[Any]) -> M:
    """`model` with these column values (`keys` from `columns_of`), detached."""
    fields: dict[str, Any] = dict(zip(keys, values, strict=True))
    entity = model(**fields)
    make_transient_to_detached(entity)
    return entity
