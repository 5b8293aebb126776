"""The server-sent events of the streams: a thread's and a board's (docs/protocol.md,
"Discussions: server-sent events") and a contact conversation's (docs/modalities.md).
Each is published on its channel by the actions, or read back from the database by a
replay, and sent as one `data:` line under the `event:` of its `type`.
"""

from __future__ import annotations

from typing import Any, Literal, TypedDict, get_args

PostOp = Literal["new", "edit", "delete", "cosign", "uncosign", "replay"]
ThreadOp = Literal["new", "update", "lock", "unlock", "replay"]
# A contact request's answer (its new status), or its replay.
RequestOp = Literal["accepted", "declined", "replay"]
MessageOp = Literal["new", "replay"]


class PostEvent(TypedDict):
    """A post as it is now (`PostOut`); a deleted one has `body` and `html` null."""

    type: Literal["post"]
    op: PostOp
    seq: int
    thread: int
    post: dict[str, Any]


class ThreadEvent(TypedDict):
    """A thread as it is now (`ThreadOut`)."""

    type: Literal["thread"]
    op: ThreadOp
    seq: int
    thread: dict[str, Any]


class BoardRenamed(TypedDict):
    """A board's counter moved for a change of the names its pages show (an author's
    public details, a group's name, the line's title): told to the workers that keep
    its pages, not forwarded to readers' streams (`forum/actions/board_refresh.py`)."""

    type: Literal["renamed"]
    seq: int


class RequestEvent(TypedDict):
    """A contact request, answered (`RequestOut`)."""

    type: Literal["request"]
    op: RequestOp
    seq: int
    request: dict[str, Any]


class MessageEvent(TypedDict):
    """A message of an accepted contact request (`MessageOut`)."""

    type: Literal["message"]
    op: MessageOp
    seq: int
    message: dict[str, Any]


class StreamReset(TypedDict):
    """Sent alone, then the stream ends: too much was missed to replay; reload."""

    reason: str


StreamEvent = PostEvent | ThreadEvent | RequestEvent | MessageEvent

STREAM_EVENTS: dict[str, frozenset[str]] = {
    "post": frozenset(get_args(PostOp)),
    "thread": frozenset(get_args(ThreadOp)),
    "request": frozenset(get_args(RequestOp)),
    "message": frozenset(get_args(MessageOp)),
}
"""Every numbered event of the streams, by `event:`: its ops."""
