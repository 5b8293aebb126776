"""Full-text search over posts and thread titles: one interface, two backends.

- SQLite: the FTS5 table `posts_fts` (external content over `posts`, kept in step by
  triggers), ranked by BM25 with the title weighted above the body, `snippet()` for
  the excerpt.
- PostgreSQL: the generated `posts.search_vector` with its GIN index, queried with
  `websearch_to_tsquery`, ranked by `ts_rank`, excerpted by `ts_headline` (computed
  for the page of results only: it reads the whole text).

Both read the same query language, the one people type into search boxes: words
(all required), `"a phrase"`, `-excluded`, `either OR other`. Both use the `simple`
dictionary (no stemming, no stop words): the forum is written in many languages.

Excerpts come from the database with hits between the control characters STX and
ETX, which no stored text can contain (`clean_body` and `clean_line` refuse them).
`snippet_html` escapes the excerpt and only then turns the markers into `<mark>`, so
the HTML is safe whatever the post says.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from html import escape
from typing import Any

from sqlalchemy import bindparam, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from forum.db.base import UTCDateTime
from forum.db.models import ActionLine, Group, Post, Thread, User

START, STOP = "\x02", "\x03"
SEARCH_MAX = 50
QUERY_MAX_CHARS = 500
_TERM_RE = re.compile(r'(-?)"([^"]*)"?|(\S+)')


@dataclass(frozen=True)
class SearchQuery:
    text: str
    action_line: str | None = None
    family: str | None = None
    group: str | None = None
    kind: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 20
    offset: int = 0


@dataclass(frozen=True)
class SearchHit:
    post: Post
    thread: Thread
    line: ActionLine
    author: User
    group: Group | None
    rank: float
    snippet_html: str

    def wire(self) -> dict[str, Any]:
        return {
            "post_id": self.post.id,
            "thread_id": self.thread.id,
            "thread_title": self.thread.title,
            "action_line": self.line.code,
            "number": self.post.number,
            "kind": self.post.kind,
            "author": self.author.public(),
            "group": None
            if self.group is None
            else {"slug": self.group.slug, "name": self.group.name},
            "created_at": self.post.created_at.isoformat(),
            "rank": self.rank,
            "snippet_html": self.snippet_html,
        }


def snippet_html(raw: str) -> str:
    """Escape an excerpt, then mark its hits; unbalanced markers are closed."""
    out: list[str] = []
    open_mark = False
    for part in re.split(f"([{START}{STOP}])", raw):
        if part == START:
            if not open_mark:
                out.append("<mark>")
                open_mark = True
        elif part == STOP:
            if open_mark:
                out.append("</mark>")
                open_mark = False
        else:
            out.append(escape(part, quote=True))
    if open_mark:
        out.append("</mark>")
    return "".join(out)


def fts5_query(query: str) -> str | None:
    """Translate what people type into an FTS5 expression that cannot be a syntax error.

    Every term becomes a quoted string (FTS5 has no other escaping), `word*` a prefix
    query. Returns None when nothing searchable is left.
    """
    groups: list[list[str]] = [[]]
    excluded: list[str] = []
    for match in _TERM_RE.finditer(query):
        negative, phrase, word = match.group(1), match.group(2), match.group(3)
        if word is not None and word.upper() == "OR":
            if groups[-1]:
                groups.append([])
            continue
        if word is not None and word.startswith("-") and len(word) > 1:
            negative, word = "-", word[1:]
        term = phrase if phrase is not None else word
        prefix = term.endswith("*") and phrase is None
        term = term.rstrip("*") if prefix else term
        if not any(char.isalnum() for char in term):
            continue
        quoted = '"' + term.replace('"', '""') + '"' + (" *" if prefix else "")
        (excluded if negative else groups[-1]).append(quoted)
    alternatives = [" AND ".join(terms) for terms in groups if terms]
    if not alternatives:
        return None
    expression = " OR ".join(f"({alt})" for alt in alternatives)
    for term in excluded:
        expression = f"({expression}) NOT {term}"
    return expression


def _filters(query: SearchQuery) -> tuple[list[str], dict[str, Any], list[Any]]:
    clauses = ["p.deleted_at IS NULL"]
    params: dict[str, Any] = {}
    typed: list[Any] = []
    if query.action_line is not None:
        clauses.append("al.code = :line")
        params["line"] = query.action_line
    if query.family is not None:
        clauses.append("u.family = :family")
        params["family"] = query.family
    if query.group is not None:
        clauses.append("g.slug = :group")
        params["group"] = query.group
    if query.kind is not None:
        clauses.append("p.kind = :kind")
        params["kind"] = query.kind
    if query.since is not None:
        clauses.append("p.created_at >= :since")
        typed.append(bindparam("since", query.since, type_=UTCDateTime()))
    if query.until is not None:
        clauses.append("p.created_at < :until")
        typed.append(bindparam("until", query.until, type_=UTCDateTime()))
    return clauses, params, typed


_JOINS = """
    JOIN threads t ON t.id = p.thread_id
    JOIN action_lines al ON al.id = t.action_line_id
    JOIN users u ON u.id = p.author_id
    LEFT JOIN groups g ON g.id = p.group_id
"""


async def _sqlite_ranked(
    session: AsyncSession, query: SearchQuery
) -> Sequence[tuple[int, float, str]]:
    expression = fts5_query(query.text)
    if expression is None:
        return []
    clauses, params, typed = _filters(query)
    statement = text(
        f"""
        SELECT p.id, -bm25(posts_fts, 4.0, 1.0) AS rank,
               snippet(posts_fts, -1, char(2), char(3), '…', 24) AS excerpt
        FROM posts_fts JOIN posts p ON p.id = posts_fts.rowid {_JOINS}
        WHERE posts_fts MATCH :expression AND {" AND ".join(clauses)}
        ORDER BY bm25(posts_fts, 4.0, 1.0), p.created_at DESC, p.id DESC
        LIMIT :limit OFFSET :offset
        """  # noqa: S608 - the interpolated parts are fixed fragments; values are bound
    ).bindparams(*typed)
    rows = await session.execute(
        statement,
        {**params, "expression": expression, "limit": query.limit, "offset": query.offset},
    )
    return [(int(row[0]), float(row[1]), str(row[2] or "")) for row in rows]


_HEADLINE_OPTIONS = (
    f"StartSel={START}, StopSel={STOP}, MaxWords=35, MinWords=15, "
    'MaxFragments=2, FragmentDelimiter=" … "'
)


async def _postgres_ranked(
    session: AsyncSession, query: SearchQuery
) -> Sequence[tuple[int, float, str]]:
    if not query.text.strip():
        return []
    clauses, params, typed = _filters(query)
    tsquery = "websearch_to_tsquery('simple', :q)"
    statement = text(
        f"""
        SELECT ranked.id, ranked.rank,
               ts_headline('simple', concat_ws(' — ', nullif(p.title, ''), p.plain),
                           {tsquery}, :options) AS excerpt
        FROM (
            SELECT p.id, ts_rank(p.search_vector, {tsquery}) AS rank, p.created_at
            FROM posts p {_JOINS}
            WHERE p.search_vector @@ {tsquery} AND {" AND ".join(clauses)}
            ORDER BY rank DESC, p.created_at DESC, p.id DESC
            LIMIT :limit OFFSET :offset
        ) ranked JOIN posts p ON p.id = ranked.id
        ORDER BY ranked.rank DESC, ranked.created_at DESC, ranked.id DESC
        """  # noqa: S608 - the interpolated parts are fixed fragments; values are bound
    ).bindparams(*typed)
    rows = await session.execute(
        statement,
        {
            **params,
            "q": query.text,
            "options": _HEADLINE_OPTIONS,
            "limit": query.limit,
            "offset": query.offset,
        },
    )
    return [(int(row[0]), float(row[1]), str(row[2] or "")) for row in rows]


async def search_posts(session: AsyncSession, query: SearchQuery) -> list[SearchHit]:
    """Ranked hits, best first, each with a safe HTML excerpt."""
    if len(query.text) > QUERY_MAX_CHARS:
        query = SearchQuery(**{**query.__dict__, "text": query.text[:QUERY_MAX_CHARS]})
    dialect = session.get_bind().dialect.name
    ranked = await (
        _postgres_ranked(session, query)
        if dialect == "postgresql"
        else _sqlite_ranked(session, query)
    )
    if not ranked:
        return []
    rows = await session.execute(
        select(Post, Thread, ActionLine, User, Group)
        .join(Thread, Thread.id == Post.thread_id)
        .join(ActionLine, ActionLine.id == Thread.action_line_id)
        .join(User, User.id == Post.author_id)
        .outerjoin(Group, Group.id == Post.group_id)
        .where(Post.id.in_([post_id for post_id, _, _ in ranked]))
    )
    found = {row[0].id: row for row in rows}
    hits = []
    for post_id, rank, excerpt in ranked:
        if post_id in found:
            post, thread, line, author, group = found[post_id]
            hits.append(SearchHit(post, thread, line, author, group, rank, snippet_html(excerpt)))
    return hits
