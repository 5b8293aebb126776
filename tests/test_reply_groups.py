"""Replies on SQLite are committed in groups (`forum.db.grouped_blocks`): replies sent at
once share one transaction, each is stored and acknowledged once it has committed, one
refused among them is refused alone, and the search finds each."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from forum.actions import posts
from forum.db.engine import end_read, make_sessionmaker
from forum.db.grouped_blocks import block_groups, run_grouped
from forum.db.models import Post, PostRevision, Thread
from forum.db.one_trip import Statements
from forum.db.search import SearchQuery, search_posts
from forum.errors import ErrorCode, ForumError
from forum.limits import MemoryRateLimiter, PostThrottle
from tests.board_world import Board
from tests.group_support import cancel_once_grouped

WRITERS = ("author", "other", "coordinator", "signer", "member", "secretariat")


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """The group commit is SQLite's (PostgreSQL keeps one transaction a reply): these
    tests run on SQLite alone."""
    return sqlite_url


def sqlite_engine(board: Board) -> AsyncEngine:
    engine = board.session.bind
    assert isinstance(engine, AsyncEngine) and engine.dialect.name == "sqlite"
    return engine


async def test_replies_at_once_commit_together_and_one_refused_is_refused_alone(
    board: Board,
) -> None:
    b = board
    engine = sqlite_engine(b)
    [new] = await b.done(b.open_thread(), "thread/new")
    thread_id = new["thread"]["id"]
    _, opening = await b.open_thread(who="other")
    elsewhere = opening.post.id  # a post of another thread: answering it is refused
    await b.listen(thread_id)
    b.take()
    limiter = MemoryRateLimiter()
    throttle = PostThrottle(limiter, 1000, 60)
    sessionmaker = make_sessionmaker(engine)
    before = block_groups(engine)
    batches_before = before.groups.batches if before is not None else 0

    async def write(n: int) -> Any:
        who = WRITERS[n % len(WRITERS)]
        async with sessionmaker() as session:
            try:
                _, view = await posts.do_reply(
                    session,
                    b.broker,
                    throttle,
                    user=b[who],
                    thread_id=thread_id,
                    body=f"Reply word{n}x in the group.",
                    parent_id=elsewhere if n == 5 else None,
                )
            except ForumError as error:
                return error
        # Acknowledged: another connection finds the post at once.
        async with sessionmaker() as fresh:
            assert await fresh.get(Post, view.post.id) is not None
        return view

    answers = await asyncio.gather(*(write(n) for n in range(12)))

    refused = answers.pop(5)
    assert isinstance(refused, ForumError) and refused.code is ErrorCode.VALIDATION
    assert refused.field == "parent_id"
    groups = block_groups(engine)
    assert groups is not None
    assert groups.groups.largest > 1  # they went together
    assert groups.groups.batches - batches_before < 11

    # Every other reply is stored, in the order it was sent, each with its revision,
    # the thread's counters and the board's seq taken once per reply.
    seqs = [view.post.seq for view in answers]
    numbers = [view.post.number for view in answers]
    assert numbers == list(range(2, 13))
    assert seqs == list(range(seqs[0], seqs[0] + 11))
    session = b.session
    stored = (
        await session.scalars(select(Post).where(Post.thread_id == thread_id).order_by(Post.number))
    ).all()
    assert [post.id for post in stored[1:]] == [view.post.id for view in answers]
    revisions = await session.scalars(
        select(PostRevision.post_id).where(PostRevision.post_id.in_([p.id for p in stored]))
    )
    assert sorted(revisions) == sorted(post.id for post in stored)
    thread = await session.get(Thread, thread_id)
    assert thread is not None and (thread.reply_count, thread.last_number) == (11, 12)
    assert thread.seq == seqs[-1]
    # The refused reply counts nowhere: eleven posts against the limit, not twelve.
    counted = sum(len(limiter._hits[f"post:user:{b[w].id}"][1]) for w in set(WRITERS))
    assert counted == 11
    # Each is found by the search, through the FTS triggers.
    for n in range(12):
        hits = await search_posts(session, SearchQuery(text=f"word{n}x"))
        assert [hit.post.number for hit in hits] == ([] if n == 5 else [numbers[n - (n > 5)]])
    await end_read(session)
    # And each was published, in order, on the thread's channel and the board's.
    published = [event for channel, event in b.take() if channel == f"thread:{thread_id}"]
    assert [event["seq"] for event in published] == seqs


async def test_a_block_that_fails_in_the_database_fails_alone(board: Board) -> None:
    engine = sqlite_engine(board)
    insert = text("INSERT INTO boards (action_line_id, last_seq) VALUES (:line, 7)")
    taken = (await board.session.scalars(text("SELECT id FROM action_lines LIMIT 3"))).all()
    await end_read(board.session)
    await board.session.execute(text("DELETE FROM boards"))
    await board.session.commit()

    def make(line: int) -> Any:
        def block(statements: Statements) -> int:
            statements.rows(insert, {"line": line})
            return line

        return block

    # The second insert repeats the first's key: its savepoint goes, the others stay.
    lines = [taken[0], taken[0], taken[1], taken[2]]
    outcomes = await asyncio.gather(
        *(run_grouped(engine, make(line)) for line in lines), return_exceptions=True
    )
    assert outcomes[0] == taken[0] and outcomes[2:] == [taken[1], taken[2]]
    assert isinstance(outcomes[1], IntegrityError)
    rows = (await board.session.execute(text("SELECT action_line_id FROM boards"))).all()
    assert sorted(row[0] for row in rows) == sorted(taken)


async def test_a_refusal_of_the_first_block_leaves_the_board_as_it_was(board: Board) -> None:
    b = board
    sqlite_engine(b)
    # The board has no row yet: a reply to an unknown thread is refused before making it.
    before = await b.rows()
    await b.refused(ErrorCode.NOT_FOUND, b.reply(10**9))
    assert await b.rows() == before
    [new] = await b.done(b.open_thread(), "thread/new")
    await b.done(b.reply(new["thread"]["id"]), "thread/update")


async def test_a_writer_cancelled_once_its_group_began_still_has_its_events_published(
    board: Board,
) -> None:
    b = board
    engine = sqlite_engine(b)
    [new] = await b.done(b.open_thread(), "thread/new")
    thread_id = new["thread"]["id"]
    await b.listen(thread_id)
    b.take()
    sessionmaker = make_sessionmaker(engine)

    async def write() -> None:
        async with sessionmaker() as session:
            await posts.do_reply(
                session,
                b.broker,
                b.throttle,
                user=b["other"],
                thread_id=thread_id,
                body="Sent, then gone.",
            )

    await cancel_once_grouped(engine, write, b.captured)
    await asyncio.sleep(0.05)
    kinds = [(channel.split(":")[0], event["op"]) for channel, event in b.take()]
    assert kinds == [("thread", "new"), ("board", "update")]
    bodies = await b.session.scalars(select(Post.body).where(Post.thread_id == thread_id))
    assert "Sent, then gone." in bodies.all()
    await end_read(b.session)


async def test_a_reply_must_be_its_own_transaction(board: Board) -> None:
    b = board
    [new] = await b.done(b.open_thread(), "thread/new")
    b.take()
    async with b.session.begin():
        with pytest.raises(RuntimeError, match="outermost transaction"):
            await posts.do_reply(
                b.session,
                b.broker,
                b.throttle,
                user=b["other"],
                thread_id=new["thread"]["id"],
                body="Inside another.",
            )
    assert b.take() == []
