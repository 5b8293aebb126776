"""Presence in a room, merged on this worker before it goes out.

Presence changes carry no `seq`: each entry has a version of its own, and a newer one
replaces an older. The changes a room hears within PRESENCE_FLUSH_S go out as one
`presence` frame, so that a hall filling up sends a few frames, not one per person.
"""

from __future__ import annotations

import asyncio
from typing import cast

from forum.broker import Message
from forum.wire.events import PresenceUpdate
from forum.ws.delivery import PresenceMark, RoomFanout, offer
from forum.ws.direct_send import Outgoing
from forum.ws.protocol import encode_bytes

PRESENCE_FLUSH_S = 0.1


def merge_presence(fanout: RoomFanout, message: Message) -> None:
    update = cast(PresenceUpdate, message)
    for entry in update.get("users", ()):
        _keep_newer(fanout, entry)
    for gone in update.get("left", ()):
        _keep_newer(fanout, {**gone, "left": True})
    counted = update.get("spectators")
    if counted and (fanout.spectators is None or fanout.spectators["ver"] < counted["ver"]):
        fanout.spectators = counted
    if fanout.presence_timer is None:
        fanout.presence_timer = asyncio.get_running_loop().call_later(
            PRESENCE_FLUSH_S, flush_presence, fanout
        )


def _keep_newer(fanout: RoomFanout, entry: PresenceMark) -> None:
    known = fanout.presence.get(entry["user_id"])
    if known is None or known["ver"] < entry["ver"]:
        fanout.presence[entry["user_id"]] = entry


def flush_presence(fanout: RoomFanout) -> None:
    fanout.presence_timer = None
    entries, fanout.presence = list(fanout.presence.values()), {}
    counted, fanout.spectators = fanout.spectators, None
    frame: PresenceUpdate = {
        "type": "presence",
        "op": "update",
        "room": fanout.room_id,
        "users": [entry for entry in entries if "left" not in entry],
        "left": [
            {"user_id": entry["user_id"], "ver": entry["ver"]}
            for entry in entries
            if "left" in entry
        ],
    }
    if counted is not None:
        frame["spectators"] = counted
    offer(fanout, Outgoing(None, encode_bytes(frame)))
