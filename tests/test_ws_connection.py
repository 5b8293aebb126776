"""A connection's life (`forum.ws.connection`): the table of its moves written out,
every other move refused, and a real connection walking through it on a real server."""

from __future__ import annotations

import asyncio
import itertools

import pytest

from forum.ws.connection import TRANSITIONS, Connection, Lifecycle, Phase, TransitionError
from tests.factory import GROUP
from tests.people import person
from tests.rooms_support import peer, schedule_and_open
from tests.support import LiveServer

H, OP, J, L, C, X = (
    Phase.HANDSHAKE,
    Phase.OPEN,
    Phase.JOINING,
    Phase.LIVE,
    Phase.CLOSING,
    Phase.CLOSED,
)
# Written out, so that a change to the life of a connection is a visible change here.
ALLOWED = {
    (H, OP),
    (H, C),
    (OP, J),
    (OP, C),
    (J, L),
    (J, OP),
    (J, C),
    (L, J),
    (L, OP),
    (L, C),
    (C, X),
}


def test_the_table_of_moves_is_the_one_written_here() -> None:
    assert {(a, b) for a, targets in TRANSITIONS.items() for b in targets} == ALLOWED
    assert set(TRANSITIONS) == set(Phase)


@pytest.mark.parametrize(("current", "wanted"), list(itertools.product(Phase, Phase)))
def test_every_move_outside_the_table_is_refused(current: Phase, wanted: Phase) -> None:
    life = Lifecycle("c-1")
    life.phase = current
    if (current, wanted) in ALLOWED:
        life.move(wanted)
        assert life.phase is wanted
        return
    with pytest.raises(TransitionError) as refused:
        life.move(wanted)
    assert (refused.value.current, refused.value.wanted) == (current, wanted)
    assert life.phase is current, "a refused move leaves the connection where it was"


def test_closing_is_where_every_live_state_may_go_and_closed_is_the_end() -> None:
    for phase in (H, OP, J, L):
        life = Lifecycle("c-2")
        life.phase = phase
        life.move(C)
        assert life.closing
        life.move(X)
        assert life.closing
        with pytest.raises(TransitionError):
            life.move(OP)


def phase(connection: Connection) -> Phase:
    """Read afresh: the phase changes while the test awaits the server."""
    return connection.phase


def only(server: LiveServer) -> Connection:
    (connection,) = server.state["hub"].connections
    assert isinstance(connection, Connection)
    return connection


async def test_a_connection_walks_its_life_on_a_real_server(sqlite_server: LiveServer) -> None:
    server = sqlite_server
    chair = await person(server, role="chair")
    member = await person(server, role="member")
    await schedule_and_open(chair)
    async with peer(server, member) as m:
        connection = only(server)
        assert phase(connection) is Phase.OPEN
        assert (await m.join("remote"))["type"] == "joined"
        assert phase(connection) is Phase.LIVE and connection.holding is None
        # A join from the room it is in goes through joining again, back to live.
        assert (await m.join("participant"))["type"] == "joined"
        assert phase(connection) is Phase.LIVE
        assert (await m.call({"type": "leave"}))["type"] == "ack"
        assert phase(connection) is Phase.OPEN and connection.room_id is None
        # A refused join (no such room) leaves it where it was.
        refused = await m.call({"type": "join", "room": "no-such-group", "seat": "remote"})
        assert refused["type"] == "error" and phase(connection) is Phase.OPEN
        assert (await m.join("remote", room=GROUP))["type"] == "joined"
        assert phase(connection) is Phase.LIVE
    for _ in range(100):
        if phase(connection) is Phase.CLOSED:
            break
        await asyncio.sleep(0.05)
    assert phase(connection) is Phase.CLOSED
    assert not server.state["hub"].connections
