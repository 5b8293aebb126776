"""The discussion actions against a real database, SQLite and PostgreSQL: every change
takes the board's next seq and asserts the events it published with it; every refusal
asserts its code, no row changed and nothing published. And a reader's state (what it
read plus the events) equals the state read fresh after every action."""

from __future__ import annotations

import pytest

from forum.actions import positions, posts
from forum.db.engine import write_transaction
from forum.errors import ErrorCode, ForumError
from tests.board_world import Board
from tests.capture import broker_down


async def test_open_reply_edit_delete_and_lock(board: Board) -> None:
    b = board
    [new] = await b.done(b.open_thread(body="  Libraries.  "), "thread/new")
    thread_id, first = new["thread"]["id"], new["thread"]
    assert (first["title"], first["reply_count"], first["locked"]) == (
        "Public access points",
        0,
        False,
    )
    await b.listen(thread_id)
    opening = (await b.rows())["posts"]

    post, update = await b.done(b.reply(thread_id), "post/new", "thread/update")
    reply_id = post["post"]["id"]
    assert (post["post"]["number"], post["post"]["parent_number"], post["thread"]) == (
        2,
        None,
        thread_id,
    )
    assert update["thread"]["reply_count"] == 1
    answer, _ = await b.done(
        b.reply(thread_id, who="author", body="To the reply.", parent=reply_id),
        "post/new",
        "thread/update",
    )
    assert (answer["post"]["parent_number"], answer["post"]["depth"]) == (2, 1)
    assert (await b.rows())["posts"] == opening + 2

    await b.refused(ErrorCode.NOT_FOUND, b.reply(10**9))
    await b.refused(
        ErrorCode.NOT_FOUND,
        posts.do_open_thread(
            b.session, b.broker, b.throttle, user=b["author"], line_code="C99", title="T", body="B"
        ),
    )
    await b.refused(ErrorCode.VALIDATION, b.reply(thread_id, parent=10**9))
    [other] = await b.done(b.open_thread(who="other"), "thread/new")
    await b.refused(ErrorCode.VALIDATION, b.reply(other["thread"]["id"], parent=reply_id))

    # Edits: the author's own, a revision each time the text changes.
    await b.refused(ErrorCode.FORBIDDEN, b.edit(reply_id, who="author"))
    await b.refused(ErrorCode.NOT_FOUND, b.edit(10**9))
    edited, _ = await b.done(
        b.edit(answer["post"]["id"], body="Said better."), "post/edit", "thread/update"
    )
    assert edited["post"]["body"] == "Said better." and edited["post"]["revision_count"] == 2
    assert edited["post"]["parent_number"] == 2
    before = await b.rows()
    b.take()
    await b.edit(answer["post"]["id"], body="Said better.")  # the same text: no revision
    after = await b.rows()
    assert b.take() == []
    # Only the board's counter moves: the edit took its next seq before comparing.
    assert {**after, "boards": None} == {**before, "boards": None}

    # Deletion leaves a tombstone; the moderators may delete others' posts.
    await b.refused(ErrorCode.FORBIDDEN, b.delete(reply_id, who="author"))
    gone, counted = await b.done(
        b.delete(reply_id, who="secretariat"), "post/delete", "thread/update"
    )
    assert gone["post"]["deleted"] and gone["post"]["body"] is None
    assert counted["thread"]["reply_count"] == 1
    await b.refused(ErrorCode.CONFLICT, b.delete(reply_id, who="secretariat"))
    await b.refused(ErrorCode.CONFLICT, b.edit(reply_id, who="other"))

    # Locking: moderators only; a locked thread takes no posts but the moderators'.
    await b.refused(ErrorCode.FORBIDDEN, b.lock(thread_id, who="author"))
    await b.refused(ErrorCode.NOT_FOUND, b.lock(10**9))
    locked = await b.done(b.lock(thread_id), "thread/lock", "thread/lock")
    assert all(event["thread"]["locked"] for event in locked)
    await b.refused(ErrorCode.LOCKED, b.reply(thread_id))
    await b.refused(ErrorCode.LOCKED, b.edit(answer["post"]["id"], body="Again."))
    await b.done(b.reply(thread_id, who="secretariat"), "post/new", "thread/update")
    await b.done(b.lock(thread_id), "thread/lock", "thread/lock")  # locked still
    unlocked = await b.done(b.lock(thread_id, locked=False), "thread/unlock", "thread/unlock")
    assert not unlocked[0]["thread"]["locked"]
    await b.done(b.reply(thread_id), "post/new", "thread/update")


async def test_positions_and_their_cosignatures(board: Board) -> None:
    b = board
    await b.refused(ErrorCode.FORBIDDEN, b.open_thread(who="member", group="media-caucus"))
    [new] = await b.done(b.open_thread(who="coordinator", group="gender-caucus"), "thread/new")
    thread_id = new["thread"]["id"]
    assert new["thread"]["position_count"] == 1
    await b.listen(thread_id)
    [position] = (await b.fresh(thread_id)).posts.values()
    post_id = position["id"]
    assert position["kind"] == "position" and position["group"]["slug"] == "gender-caucus"

    media = b.groups["media-caucus"].slug
    await b.refused(
        ErrorCode.FORBIDDEN,
        positions.do_cosign(b.session, b.broker, user=b["member"], post_id=post_id, group=media),
    )
    signed, _ = await b.done(
        positions.do_cosign(b.session, b.broker, user=b["signer"], post_id=post_id, group=media),
        "post/cosign",
        "thread/update",
    )
    assert [c["group"]["slug"] for c in signed["post"]["cosigners"]] == ["media-caucus"]
    await b.refused(
        ErrorCode.CONFLICT,
        positions.do_cosign(b.session, b.broker, user=b["signer"], post_id=post_id, group=media),
    )
    withdrawn, _ = await b.done(
        positions.do_withdraw_cosignature(
            b.session, b.broker, user=b["signer"], post_id=post_id, group=media
        ),
        "post/uncosign",
        "thread/update",
    )
    assert withdrawn["post"]["cosigners"] == []
    await b.refused(
        ErrorCode.CONFLICT,
        positions.do_withdraw_cosignature(
            b.session, b.broker, user=b["signer"], post_id=post_id, group=media
        ),
    )
    # A reply may be a position of the group too, by its chair.
    reply, update = await b.done(
        posts.do_reply(
            b.session,
            b.broker,
            b.throttle,
            user=b["signer"],
            thread_id=thread_id,
            body="We agree.",
            group=media,
        ),
        "post/new",
        "thread/update",
    )
    assert reply["post"]["kind"] == "position" and update["thread"]["position_count"] == 2
    await b.done(b.delete(reply["post"]["id"], who="signer"), "post/delete", "thread/update")
    assert (await b.fresh(thread_id)).threads[thread_id]["position_count"] == 1


async def test_initial_state_plus_events_equals_fresh_state(board: Board) -> None:
    b = board
    opened, _ = await b.open_thread()
    thread_id = opened.thread.id
    reader = await b.watch(thread_id)
    await b.follow(b.reply(thread_id))
    reply_id = max(reader.posts)
    await b.follow(b.reply(thread_id, who="author", body="Nested.", parent=reply_id))
    await b.follow(b.open_thread(who="other"))  # another thread of the board
    await b.follow(b.edit(reply_id, who="other", body="Agreed, with a caveat."))
    await b.follow(b.edit(reply_id, who="other", body="Agreed, with a caveat."))  # no change
    await b.follow(b.delete(reply_id, who="other"))
    await b.follow(b.lock(thread_id))
    await b.follow(b.reply(thread_id, who="secretariat", body="Closing remarks."))
    await b.follow(b.lock(thread_id, locked=False))
    await b.follow(b.open_thread(who="coordinator", group="gender-caucus"))
    assert len(reader.threads) == 3 and len(reader.posts) == 4
    assert reader.locked is False and reader.posts[reply_id]["deleted"]


async def test_a_failed_publish_does_not_undo_or_fail_a_committed_post(
    board: Board, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    b = board
    broker_down(monkeypatch, b.broker)
    before = await b.rows()
    thread, post = await b.open_thread()
    after = await b.rows()
    assert (after["threads"], after["posts"]) == (before["threads"] + 1, before["posts"] + 1)
    assert post.post.thread_id == thread.thread.id
    assert "publishing to" in caplog.text


async def test_a_thread_or_post_gone_under_the_lock_is_not_found(board: Board) -> None:
    """The rows an action locks are read again inside its transaction: one deleted
    since its first read is refused, not written to."""
    b = board
    for read in (posts.locked_thread, posts.locked_post):
        with pytest.raises(ForumError) as caught:
            async with write_transaction(b.session):
                await read(b.session, 10**9)
        assert caught.value.code is ErrorCode.NOT_FOUND
