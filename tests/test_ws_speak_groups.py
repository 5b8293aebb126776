"""Interventions of several speakers at once, on SQLite, on a real uvicorn server: they
commit in groups (`forum.db.grouped_blocks`), a refused one fails alone with its code,
the others are acknowledged with consecutive `seq`s and each reaches a listener once,
in order."""

from __future__ import annotations

import asyncio
from typing import Any

from forum.db.grouped_blocks import block_groups
from tests.people import person
from tests.rooms_support import Peer, peers, schedule_and_open, seated
from tests.support import LiveServer

ROUNDS = 3


async def answers(p: Peer, refs: list[str]) -> dict[str, dict[str, Any]]:
    """The answers (ack or error) to `refs`, by ref."""
    got: dict[str, dict[str, Any]] = {}
    while len(got) < len(refs):
        frame = await p.next(wait=10)
        if frame.get("ref") in refs and frame["type"] in {"ack", "error"}:
            got[frame["ref"]] = frame
    return got


async def test_interventions_of_several_speakers_commit_in_groups(
    sqlite_server: LiveServer,
) -> None:
    server = sqlite_server
    chair = await person(server, role="chair", name="Chair")
    members = [await person(server, role="member", name=f"Member {n}") for n in range(4)]
    observer = await person(server, family="civil_society", name="Observer")
    await schedule_and_open(chair, fmt="open_debate")
    async with peers(server, chair, *members, observer, None) as (c, *ms, o, listener):
        speakers = [c, *ms]
        await seated(
            *((p, "participant") for p in speakers), (o, "observer"), (listener, "spectator")
        )
        start = max(frame["seq"] for frame in listener.seen if "seq" in frame)
        # Every frame sent before any answer is read: the writers come together.
        sent: list[list[str]] = []
        for n, p in enumerate(speakers):
            sent.append(
                [await p.send({"type": "speak", "body": f"{n}.{r}"}) for r in range(ROUNDS)]
            )
            if n == 1:
                # Among the others, in the groups they make.
                refused_ref = await o.send({"type": "speak", "body": "Me too"})
        got = await asyncio.gather(
            *(answers(p, refs) for p, refs in zip(speakers, sent, strict=True)),
            answers(o, [refused_ref]),
        )
        refused = got[-1][refused_ref]
        assert refused["type"] == "error" and refused["code"] == "observer_cannot_speak"
        acks = [answer for by_ref in got[:-1] for answer in by_ref.values()]
        assert all(answer["type"] == "ack" for answer in acks), acks
        seqs = sorted(answer["seq"] for answer in acks)
        count = len(speakers) * ROUNDS
        assert seqs == list(range(seqs[0], seqs[0] + count))
        # Each speaker's own interventions in the order it sent them.
        for p, refs in zip(speakers, sent, strict=True):
            mine = [frame["seq"] for frame in p.seen if frame.get("ref") in refs]
            assert mine == sorted(mine)
        while len([f for f in listener.events() if f["type"] == "intervention"]) < count:
            await listener.next(wait=10)
        delivered = [f for f in listener.events() if f["seq"] > start]
        assert [f["seq"] for f in delivered] == seqs
        assert {f["body"] for f in delivered} == {
            f"{n}.{r}" for n in range(len(speakers)) for r in range(ROUNDS)
        }
    groups = block_groups(server.state["engine"])
    assert groups is not None
    assert groups.groups.largest > 1
    assert groups.groups.batches < count + 1
