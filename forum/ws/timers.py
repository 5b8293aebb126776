"""The clocks of live rooms, owned by the application's lifespan and calling actions.

- **Floor expiry**: a turn with a time limit returns to the chair when it runs out.
  The hub tells this module each room's floor as it learns it (`Hub.floor_watcher`);
  a timer per room calls `do_expire_floor` with the turn it was set for, so that a
  timer cannot end a later turn. Every worker with a connection in the room sets one;
  the first to fire ends the turn, the others find nothing to do. A paused turn has
  no `ends_at`, so its timer is cancelled and none is set until it resumes.
- **Presence heartbeat** (every HEARTBEAT_S): this worker's presence and spectator rows
  are marked alive, those of workers that stopped are swept, and the hub compares its
  rooms with the database for events other workers' publishes lost (`catch_up`).
- **Access windows** (every WINDOW_TICK_S): windows whose time is over are ended
  through `do_end_window`, which moves the people they seated. Every worker looks; the
  first to lock the room ends the window, the others find it ended. Reading the
  windows from the database (one indexed query a second) rather than arming a timer
  per window means a window set on another worker, or before a restart, ends on time.
- **Watchdog** (every WATCHDOG_S): a peer that has taken nothing for longer than its
  stall timeout (the ping timeout: a live peer answers a ping in that time) is dropped,
  with its presence and seat, even when the server cannot complete a close with it.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from forum.actions.access_windows import do_end_due_windows
from forum.actions.seats import do_sweep_presence, do_touch_presence
from forum.actions.speaking import do_expire_floor
from forum.broker import Broker
from forum.db.base import utcnow
from forum.wire.room import Floor
from forum.ws.hub import Hub

log = logging.getLogger(__name__)

HEARTBEAT_S = 10.0
WATCHDOG_S = 0.25
WINDOW_TICK_S = 1.0
# A timer fires this long after the turn's end, so that the action, which checks the
# time again, finds it over.
EXPIRY_SLACK_S = 0.05


class Timers:
    def __init__(
        self, sessionmaker: async_sessionmaker[AsyncSession], broker: Broker, hub: Hub
    ) -> None:
        self.sessionmaker = sessionmaker
        self.broker = broker
        self.hub = hub
        self.floors: dict[int, asyncio.TimerHandle] = {}
        self._loops: list[asyncio.Task[None]] = []
        self._expiring: set[asyncio.Task[Any]] = set()
        # Set before the loops are cancelled: a cancellation that arrives inside a
        # database call may come out as the driver's error, which a loop logs and goes
        # on from, so each loop also stops when it sees this.
        self._stopping = False

    async def start(self) -> None:
        self.hub.floor_watcher = self.floor_changed
        self._loops = [
            asyncio.create_task(self._heartbeat_loop(), name="ws-heartbeat"),
            asyncio.create_task(self._watchdog_loop(), name="ws-watchdog"),
            asyncio.create_task(self._windows_loop(), name="ws-windows"),
        ]

    async def stop(self) -> None:
        self._stopping = True
        self.hub.floor_watcher = None
        for timer in self.floors.values():
            timer.cancel()
        self.floors.clear()
        for task in [*self._loops, *self._expiring]:
            task.cancel()
        await asyncio.gather(*self._loops, *self._expiring, return_exceptions=True)
        self._loops = []

    # -- the floor ------------------------------------------------------------------

    def floor_changed(self, room_id: int, floor: Floor | None) -> None:
        """The room's floor is now `floor` (None: nobody's, or the room closed here)."""
        timer = self.floors.pop(room_id, None)
        if timer is not None:
            timer.cancel()
        until = floor.get("ends_at") if floor else None
        if floor is None or not until:
            return
        ends_at = datetime.fromisoformat(until)
        delay = max(0.0, (ends_at - utcnow()).total_seconds()) + EXPIRY_SLACK_S
        turn = int(floor["turn"])
        self.floors[room_id] = asyncio.get_running_loop().call_later(
            delay, self._fire, room_id, turn
        )

    def _fire(self, room_id: int, turn: int) -> None:
        self.floors.pop(room_id, None)
        task = asyncio.create_task(self.expire(room_id, turn), name=f"ws-expire-{room_id}")
        self._expiring.add(task)
        task.add_done_callback(self._expiring.discard)

    async def expire(self, room_id: int, turn: int) -> None:
        try:
            async with self.sessionmaker() as session:
                await do_expire_floor(session, self.broker, room_id, turn_seq=turn)
        except Exception:
            log.exception("expiring the floor of room %d failed", room_id)

    # -- access windows ---------------------------------------------------------------

    async def end_windows(self) -> int:
        async with self.sessionmaker() as session:
            return await do_end_due_windows(session, self.broker)

    async def _windows_loop(self) -> None:
        while not self._stopping:
            await asyncio.sleep(WINDOW_TICK_S)
            try:
                await self.end_windows()
            except Exception:
                log.exception("ending access windows failed")

    # -- heartbeat and watchdog -----------------------------------------------------

    async def heartbeat(self) -> None:
        async with self.sessionmaker() as session:
            await do_touch_presence(session, worker=self.hub.worker)
            await do_sweep_presence(session, self.broker)
        await self.hub.catch_up()

    async def _heartbeat_loop(self) -> None:
        while not self._stopping:
            await asyncio.sleep(HEARTBEAT_S)
            try:
                await self.heartbeat()
            except Exception:
                log.exception("presence heartbeat failed")

    async def watch(self) -> None:
        now = asyncio.get_running_loop().time()
        for connection in self.hub.stalled(now):
            log.info("dropping stalled connection %s", connection.id)
            # Should the peer ever read again, the close tells it to resume.
            connection.overflow()
            try:
                await self.hub.disconnect(connection)
            except Exception:
                log.exception("dropping connection %s failed", connection.id)

    async def _watchdog_loop(self) -> None:
        while not self._stopping:
            await asyncio.sleep(WATCHDOG_S)
            await self.watch()
