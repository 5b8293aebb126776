"""Who a credential is, and what they may do on a board, kept by this worker for a
moment, so that a signed-in read asks the database nothing about its reader.

Kept for `trust_s` (`FORUM_SESSION_TRUST_S`) after it was read, and no longer: a change
made elsewhere (another worker, the admin command, SQL by hand) reaches this worker's
cache within that window. A change committed through this worker's engine reaches it at
once: `watch_people` sees every statement that writes the people's tables (accounts,
sessions, memberships, groups and what they follow) and, once the connection that
committed it is back in the pool, drops everything kept. Dropped after the commit, not
before, and a lookup that began before the drop keeps nothing (`generation`): a read
that raced the write cannot put the old answer back.

Only answers are kept, never refusals: an unknown or ended credential asks the
database each time, as before. A kept session still ends at its `expires_at`.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.sql.dml import UpdateBase

from forum.auth import Principal, authenticate, bearer_token
from forum.db.base import utcnow
from forum.db.discussions_queries import board_roles, groups_spoken_for
from forum.db.models import Group
from forum.domain.vocabulary import Role

SESSIONS_KEPT = 10_000
BOARD_FACTS_KEPT = 50_000
# Whatever is written to these changes who someone is or what they may do on a board.
PEOPLE_TABLES = frozenset({"users", "auth_sessions", "memberships", "groups", "group_action_lines"})
_WROTE = "forum.people_written"
_COMMITTED = "forum.people_committed"
K = TypeVar("K")
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class BoardFacts:
    """A person's roles in the groups that follow a board, and the groups they speak for."""

    roles: frozenset[Role]
    speaks_for: tuple[Group, ...]


@dataclass(slots=True)
class _Kept(Generic[T]):
    value: T
    read_at: float


class SessionCache:
    def __init__(
        self,
        *,
        trust_s: float,
        clock: Callable[[], float] = time.monotonic,
        sessions_kept: int = SESSIONS_KEPT,
        facts_kept: int = BOARD_FACTS_KEPT,
    ) -> None:
        self._trust_s = trust_s
        self._clock = clock
        self._sessions_kept = sessions_kept
        self._facts_kept = facts_kept
        self._principals: OrderedDict[tuple[str, str], _Kept[Principal]] = OrderedDict()
        self._facts: OrderedDict[tuple[int, int], _Kept[BoardFacts]] = OrderedDict()
        # Moves on every drop: a lookup that saw another number keeps nothing.
        self.generation = 0

    def __len__(self) -> int:
        return len(self._principals)

    def drop(self) -> None:
        self.generation += 1
        self._principals.clear()
        self._facts.clear()

    async def principal(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        secret: str,
        *,
        cookie: str | None,
        authorization: str | None,
    ) -> Principal | None:
        """`forum.auth.authenticate`, answered from memory while it can be trusted."""
        # The credential authenticate would use: a bearer token wins over the cookie.
        bearer = bearer_token(authorization)
        key = ("bearer", bearer) if bearer is not None else ("cookie", cookie or "")
        if key[1]:
            kept = self._fresh(self._principals, key)
            if kept is not None and kept.expires_at > utcnow():
                return kept
        generation = self.generation
        async with sessionmaker() as session:
            found = await authenticate(session, secret, cookie=cookie, authorization=authorization)
        if found is not None and key[1]:
            self._keep(self._principals, key, found, generation, self._sessions_kept)
        return found

    async def board_facts(
        self, sessionmaker: async_sessionmaker[AsyncSession], user_id: int, line_id: int
    ) -> BoardFacts:
        key = (user_id, line_id)
        kept = self._fresh(self._facts, key)
        if kept is not None:
            return kept
        generation = self.generation
        async with sessionmaker() as session:
            roles = await board_roles(session, line_id, user_id)
            groups: Sequence[Group] = await groups_spoken_for(session, user_id)
        found = BoardFacts(frozenset(roles), tuple(groups))
        self._keep(self._facts, key, found, generation, self._facts_kept)
        return found

    def _fresh(self, entries: OrderedDict[K, _Kept[T]], key: K) -> T | None:
        kept = entries.get(key)
        if kept is None:
            return None
        if self._clock() - kept.read_at >= self._trust_s:
            del entries[key]
            return None
        entries.move_to_end(key)
        return kept.value

    def _keep(
        self, entries: OrderedDict[K, _Kept[T]], key: K, value: T, generation: int, most: int
    ) -> None:
        if generation != self.generation or self._trust_s <= 0:
            return
        entries[key] = _Kept(value, self._clock())
        entries.move_to_end(key)
        while len(entries) > most:
            entries.popitem(last=False)


def watch_people(engine: AsyncEngine, cache: SessionCache) -> None:
    """Drop `cache` whenever a write to the people's tables commits through `engine`.

    The statement marks its connection; the commit turns the mark into "committed";
    the connection's return to the pool, which comes after the database has the
    change, drops the cache. A rollback clears the mark.
    """
    sync = engine.sync_engine

    def executed(conn: Any, statement: Any, *_: Any) -> None:
        if (
            isinstance(statement, UpdateBase)
            and getattr(statement.table, "name", None) in PEOPLE_TABLES
        ):
            conn.info[_WROTE] = True

    def committed(conn: Any) -> None:
        if conn.info.pop(_WROTE, False):
            conn.info[_COMMITTED] = True

    def rolled_back(conn: Any) -> None:
        conn.info.pop(_WROTE, None)

    def checked_in(_dbapi_connection: Any, record: Any) -> None:
        if record is not None and record.info.pop(_COMMITTED, False):
            cache.drop()

    event.listen(sync, "after_execute", executed)
    event.listen(sync, "commit", committed)
    event.listen(sync, "rollback", rolled_back)
    event.listen(sync, "checkin", checked_in)
