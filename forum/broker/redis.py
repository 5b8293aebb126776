"""The Redis broker: committed events fanned out to every worker over Redis pub/sub.

Each worker holds one subscription connection, whatever the number of its channels:
local listeners are kept here, and a channel is subscribed on Redis when its first
listener comes and unsubscribed when its last one goes. The connection also subscribes
to a channel of its own, so that it exists (and is watched) while no room is open.

A lost connection is reopened by a task of its own, with a backoff growing to
`BACKOFF_MAX_S`, and every channel with listeners is subscribed again. Events are in
the database before they are published, so nothing here must be reliable: a publish
while Redis is away is logged and dropped, and the hub fills the gap from the database
when the next event of the room arrives, when the commit notice of its own worker says
it is due, or when its heartbeat compares the room's `seq`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.exceptions import RedisError

from forum.broker import CommitNotices, Listener, Message

log = logging.getLogger(__name__)

BACKOFF_MIN_S = 0.05
BACKOFF_MAX_S = 2.0
# How long a subscribe waits for Redis to confirm it: a caller reads the database
# after subscribing, and an event published before the subscription holds would only
# come through gap filling.
CONFIRM_S = 1.0
# Redis pings an idle subscription this often, so a connection that died without a
# reset (a host gone, a cable cut) is noticed and reopened.
HEALTH_CHECK_S = 5.0
# A publish waits no longer than this: the action that publishes has committed, and
# its caller waits for the answer.
PUBLISH_TIMEOUT_S = 1.0


class RedisBroker(CommitNotices):
    def __init__(self, url: str, *, prefix: str = "agora:") -> None:
        super().__init__()
        self._url = url
        self.prefix = prefix
        self._redis: Redis = Redis.from_url(
            url,
            socket_connect_timeout=PUBLISH_TIMEOUT_S,
            socket_timeout=PUBLISH_TIMEOUT_S,
            health_check_interval=HEALTH_CHECK_S,
        )
        self._listeners: dict[str, list[Listener]] = {}
        self._own = f"{prefix}worker:{uuid.uuid4()}"
        self._pubsub: PubSub | None = None
        self._task: asyncio.Task[None] | None = None
        self._waiting: dict[str, list[asyncio.Future[None]]] = {}
        self.connected = asyncio.Event()
        # How many times the subscription was (re)opened; tests and /healthz read it.
        self.connections = 0

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="redis-broker")
        # Start with the subscription in place when Redis is there; without it the
        # worker still serves (from the database) and the task keeps trying.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.connected.wait(), CONFIRM_S * 2)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._listeners.clear()
        await self._redis.aclose()

    async def healthy(self) -> bool:
        if not self.connected.is_set():
            return False
        try:
            return bool(await self._redis.ping())
        except (RedisError, OSError):
            return False

    async def publish(self, channel: str, message: Message) -> None:
        data = json.dumps(message, separators=(",", ":"))
        try:
            await self._redis.publish(self.prefix + channel, data)
        except (RedisError, OSError) as error:
            # Committed already: the hub and the event streams read it from the database.
            log.warning("publish on %s lost (%s)", channel, type(error).__name__)

    async def subscribe(self, channel: str, listener: Listener) -> None:
        listeners = self._listeners.setdefault(channel, [])
        listeners.append(listener)
        if len(listeners) == 1:
            await self._send("subscribe", channel)

    async def unsubscribe(self, channel: str, listener: Listener) -> None:
        listeners = self._listeners.get(channel)
        if not listeners or listener not in listeners:
            return
        listeners.remove(listener)
        if not listeners:
            del self._listeners[channel]
            await self._send("unsubscribe", channel)

    async def _send(self, command: str, channel: str) -> None:
        """Subscribe or unsubscribe on the open connection; when there is none, the
        next one subscribes to what has listeners then."""
        pubsub = self._pubsub
        if pubsub is None or not self.connected.is_set():
            return
        name = self.prefix + channel
        confirmed: asyncio.Future[None] | None = None
        if command == "subscribe":
            confirmed = asyncio.get_running_loop().create_future()
            self._waiting.setdefault(name, []).append(confirmed)
        try:
            await getattr(pubsub, command)(name)
            if confirmed is not None:
                await asyncio.wait_for(asyncio.shield(confirmed), CONFIRM_S)
        except (RedisError, OSError, TimeoutError) as error:
            log.warning("%s %s not confirmed (%s)", command, channel, type(error).__name__)
        finally:
            if confirmed is not None:
                waiting = self._waiting.get(name, [])
                if confirmed in waiting:
                    waiting.remove(confirmed)

    async def _run(self) -> None:
        backoff = BACKOFF_MIN_S
        while True:
            pubsub = self._redis.pubsub()
            try:
                await pubsub.subscribe(self._own, *(self.prefix + c for c in self._listeners))
                self._pubsub = pubsub
                while True:
                    message = await pubsub.get_message(timeout=HEALTH_CHECK_S)
                    if message is None:
                        continue
                    if message["type"] == "subscribe" and message["channel"] == self._own.encode():
                        self.connections += 1
                        self.connected.set()
                        backoff = BACKOFF_MIN_S
                        log.info("broker subscribed to Redis (connection %d)", self.connections)
                    self._dispatch(message)
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as error:
                if self.connected.is_set():
                    log.warning("broker lost Redis (%s); reconnecting", type(error).__name__)
                self.connected.clear()
            finally:
                self._pubsub = None
                with contextlib.suppress(Exception):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, BACKOFF_MAX_S)

    def _dispatch(self, raw: dict[str, Any]) -> None:
        name = raw["channel"].decode()
        if raw["type"] == "subscribe":
            for waiter in self._waiting.pop(name, []):
                if not waiter.done():
                    waiter.set_result(None)
            return
        if raw["type"] != "message" or not name.startswith(self.prefix):
            return
        channel = name[len(self.prefix) :]
        listeners = self._listeners.get(channel)
        if not listeners:
            return
        try:
            message = json.loads(raw["data"])
        except ValueError:
            log.warning("undecodable message on %s dropped", channel)
            return
        for listener in tuple(listeners):
            try:
                listener(channel, message)
            except Exception:
                # One broken listener must not keep the message from the others.
                log.exception("broker listener failed on %s", channel)
