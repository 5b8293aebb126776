"""The `presence` frame a room hears: who went, as docs/protocol.md writes it, and the
newest entry of each person when a hub gathers several in one flush."""

from __future__ import annotations

from forum.actions.presence import presence_update
from forum.wire.room import PresenceUser, SpectatorCount
from forum.ws.delivery import RoomFanout
from forum.ws.presence_merge import merge_presence
from tests.people import person
from tests.rooms_support import peer, schedule_and_open
from tests.support import LiveServer


async def test_who_leaves_goes_out_as_left_and_no_longer_as_present(server: LiveServer) -> None:
    chair = await person(server, role="chair")
    observer = await person(server, family="civil_society", name="Observer Rosa")
    await schedule_and_open(chair)
    async with peer(server, chair) as c:
        joined = await c.join("participant")
        async with peer(server, observer) as o:
            await o.join("observer")
            came = await c.expect("presence")
            while observer.id not in {u["user_id"] for u in came["users"]}:
                came = await c.expect("presence")
            seated = next(u for u in came["users"] if u["user_id"] == observer.id)
        went = await c.expect("presence")
        while not went["left"]:
            went = await c.expect("presence")
        assert went["op"] == "update" and went["room"] == joined["room"]
        assert went["left"] == [{"user_id": observer.id, "ver": went["left"][0]["ver"]}]
        assert went["left"][0]["ver"] > seated["ver"]
        assert observer.id not in {u["user_id"] for u in went["users"]}


def seat(user_id: int, seat: str, ver: int) -> PresenceUser:
    return {
        "user_id": user_id,
        "name": "Rosa",
        "family": "civil_society",
        "organization": "",
        "country": "",
        "seat": seat,
        "remote": seat == "remote",
        "observer": seat == "observer",
        "ver": ver,
    }


async def test_an_older_entry_arriving_later_in_a_flush_does_not_undo_a_newer() -> None:
    # Two actions commit versions 5 then 6 and may publish 6 then 5: the flush must
    # send the seat of version 6, as a client would keep it.
    # merge_presence sets its flush timer on the running loop, hence a coroutine.
    fanout = RoomFanout(room_id=3)
    try:
        newer = presence_update(3, [seat(9, "remote", 6)], [])
        older = presence_update(3, [seat(9, "participant", 5)], [])
        merge_presence(fanout, newer)
        merge_presence(fanout, older)
        assert fanout.presence == {9: seat(9, "remote", 6)}
        merge_presence(fanout, presence_update(3, [], [{"user_id": 9, "ver": 7}]))
        merge_presence(fanout, older)
        assert fanout.presence == {9: {"user_id": 9, "ver": 7, "left": True}}
        # The spectator count likewise: the highest version seen, whatever came between.
        counts: list[SpectatorCount | None] = [{"count": 2, "ver": 8}, None, {"count": 1, "ver": 6}]
        for counted in counts:
            update = presence_update(3, [], [])
            if counted is not None:
                update["spectators"] = counted
            merge_presence(fanout, update)
        assert fanout.spectators == {"count": 2, "ver": 8}
    finally:
        fanout.close()
