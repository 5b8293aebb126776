"""`/ws`: the room protocol's endpoint (docs/protocol.md).

The handshake checks the Origin (cross-site WebSocket hijacking: a wrong one gets 403,
never 101) and the credentials (session cookie or bearer token). After that every
frame is rate limited, parsed, and handed to an action; a refusal is an error frame
and the connection stays open.

The socket is read by its own task while actions run: uvicorn stops reading a socket
after each message until the application asks for the next one, so read between actions
only, a connection whose action waits on the database for longer than the ping timeout
would never see the answer to the server's ping and be closed 1011, with the frames it
sent after it. Frames wait in a small inbox and are handled one at a time, in order; a
full inbox stops the reading until there is room, which holds the client's sends back
and drops nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any, Final, cast

from sqlalchemy.exc import SQLAlchemyError
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from forum.actions import speaking
from forum.actions.rooms import do_close_session, do_open_session
from forum.actions.voice import do_record_voice_turn
from forum.audit import audited, log_refusal
from forum.auth import SESSION_COOKIE, Principal, authenticate, bearer_token, cookies_from_header
from forum.db.base import utcnow
from forum.db.failures import database_unavailable
from forum.domain.vocabulary import Seat
from forum.errors import N_, ErrorCode, ForumError
from forum.i18n.negotiate import LANGUAGE_COOKIE
from forum.i18n.reader import Reader, reader_of
from forum.limits import Limit, rate_limited
from forum.origins import allowed_origin
from forum.state import AppState
from forum.wire.frames import Ack, Pong
from forum.ws.connection import Connection
from forum.ws.floor_frames import dispatch_floor
from forum.ws.handshake import admit
from forum.ws.hub import Hub
from forum.ws.joining import join_room
from forum.ws.protocol import (
    CLOSE_FLOOD,
    CLOSE_UNAUTHENTICATED,
    ClientFrame,
    CloseSession,
    ExtendFloor,
    GetEquity,
    GiveFloor,
    Join,
    Leave,
    LowerAllHands,
    LowerHand,
    MoveInQueue,
    OpenSession,
    PauseFloor,
    Ping,
    RaiseHand,
    ResumeFloor,
    SetPolicy,
    Speak,
    TakeFloor,
    VoiceTurn,
    decode_frame,
    error_frame,
    frame_ref,
    validate_frame,
)

CLOSE_UNSUPPORTED_DATA = 1003
# Frames read and not yet handled. With 16 KiB frames that is at most 256 KiB a
# connection; a client within the frame rate limit rarely has more than a few waiting.
INBOX_FRAMES = 16
# What the reader puts in the inbox after the last frame: the peer has gone, or it sent a
# binary frame (the protocol is text). Either comes after the frames read before it.
_GONE: Final = object()
_BINARY: Final = object()
PATH = "/ws"
log = logging.getLogger(__name__)


async def room_endpoint(websocket: WebSocket) -> None:
    state = cast(AppState, websocket.scope["state"])
    settings = state["settings"]
    client = websocket.client.host if websocket.client else "unknown"
    origin = websocket.headers.get("origin")
    if not allowed_origin(websocket, settings.allowed_origins):
        log_refusal("forbidden", ip=client, origin=origin, path=PATH, detail="origin")
        await websocket.close()  # before accept: uvicorn answers 403
        return
    cookies = cookies_from_header(websocket.headers.get("cookie"))
    cookie = cookies.get(SESSION_COOKIE)
    authorization = websocket.headers.get("authorization")
    async with state["sessionmaker"]() as session:
        principal = await authenticate(
            session, settings.secret_key, cookie=cookie, authorization=authorization
        )
    await websocket.accept()
    if principal is None and (cookie or bearer_token(authorization)):
        log_refusal("unauthenticated", ip=client, origin=origin, path=PATH, detail="credentials")
        await websocket.close(CLOSE_UNAUTHENTICATED, "credentials expired or unknown")
        return
    user = principal.user if principal else None
    # Error frames are in the language the connection's pages are: profile, cookie,
    # Accept-Language of the handshake.
    reader = reader_of(
        language=user.language if user else None,
        time_zone=None,
        cookie=cookies.get(LANGUAGE_COOKIE),
        accept_language=websocket.headers.get("accept-language"),
    )
    user_id = user.id if user else None
    admission = await admit(
        websocket, state, address=client, user_id=user_id, origin=origin, path=PATH
    )
    if admission is None:
        return
    hub = state["hub"]
    # A live peer answers a ping within the ping timeout; one that cannot even take
    # our frames for that long is as good as gone. The hub gives the admission back
    # when it forgets the connection, however that happens.
    connection = hub.connection(
        websocket, principal, stall_timeout=settings.ws_ping_timeout, admission=admission
    )
    try:
        await hub.connect(connection)
        connection.push(
            {
                "type": "hello",
                "user": principal.user.public() if principal else None,
                "server_time": utcnow().isoformat(),
                "max_frame_bytes": settings.ws_max_size,
            }
        )
        await Session(state, hub, connection, principal, client, origin, reader).run()
    finally:
        await hub.disconnect(connection)


class Session:
    """The receive loop of one connection."""

    def __init__(
        self,
        state: AppState,
        hub: Hub,
        connection: Connection,
        principal: Principal | None,
        client: str,
        origin: str | None,
        reader: Reader,
    ) -> None:
        self.reader = reader
        self.state = state
        self.hub = hub
        self.connection = connection
        self.principal = principal
        self.client = client
        self.origin = origin
        self.refused_in_a_row = 0

    async def run(self) -> None:
        inbox: asyncio.Queue[str | object] = asyncio.Queue(INBOX_FRAMES)
        reader = asyncio.create_task(self.read(inbox), name=f"ws-read-{self.connection.id}")
        try:
            while not self.connection.closing:
                item = await inbox.get()
                if item is _GONE:
                    return
                if item is _BINARY:
                    await self.connection.websocket.close(
                        CLOSE_UNSUPPORTED_DATA, "frames are JSON text"
                    )
                    return
                assert isinstance(item, str)  # noqa: S101 - the reader queues text or a marker
                await self.handle(item)
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader
        await self.connection.flushed()

    async def read(self, inbox: asyncio.Queue[str | object]) -> None:
        """Move frames from the socket to `inbox` until the peer goes or sends binary."""
        websocket = self.connection.websocket
        while True:
            try:
                message = await websocket.receive()
            except (WebSocketDisconnect, RuntimeError):
                await inbox.put(_GONE)
                return
            if message["type"] == "websocket.disconnect":
                await inbox.put(_GONE)
                return
            text = message.get("text")
            if text is None:
                await inbox.put(_BINARY)
                return
            await inbox.put(text)

    async def handle(self, text: str) -> None:
        # Decoded before the rate check, so that even `rate_limited` echoes the ref (a
        # frame is at most ws_max_size bytes); every frame is counted, JSON or not.
        decoded: dict[str, Any] | ForumError
        try:
            decoded = decode_frame(text)
        except ForumError as error:
            decoded = error
        data = decoded if isinstance(decoded, dict) else None
        kind = data.get("type") if data is not None else None
        if not isinstance(kind, str):
            kind = None
        # Frames over the connection's rate are answered one by one but logged once, when
        # the flood closes the connection: a line each would let a client flood the log.
        within_rate = False
        try:
            await self.check_rate()
            within_rate = True
            if isinstance(decoded, ForumError):
                raise decoded
            await self.dispatch(validate_frame(decoded))
        except (SQLAlchemyError, OSError) as failure:
            # The same judgement as HTTP's 503: input the database refused, or a bug,
            # is not the database being away.
            if not database_unavailable(failure):
                raise
            # Only the class: a driver's message can carry the statement's bound values.
            log.warning("database unavailable during a frame: %s", type(failure).__name__)
            unavailable = ForumError(
                ErrorCode.UNAVAILABLE, N_("The database is unavailable; try again shortly.")
            )
            self.connection.push(error_frame(unavailable, frame_ref(data), self.reader.gettext))
            return
        except ForumError as error:
            ref = frame_ref(data)
            self.connection.push(error_frame(error, ref, self.reader.gettext))
            self.refused_in_a_row += 1
            flood = (
                error.code is ErrorCode.RATE_LIMITED
                and self.refused_in_a_row > self.state["settings"].ws_flood_tolerance
            )
            if flood or (within_rate and audited(error)):
                log_refusal(
                    str(error.code),
                    ip=self.client,
                    origin=self.origin,
                    user_id=self.principal.user.id if self.principal else None,
                    path=PATH,
                    detail="flood" if flood else kind,
                )
            if flood:
                self.connection.close_soon(CLOSE_FLOOD, "too many frames", flush=True)
            return
        self.refused_in_a_row = 0

    async def check_rate(self) -> None:
        settings = self.state["settings"]
        retry_after = await self.state["limiter"].hit(
            Limit(
                f"ws:{self.connection.id}", settings.ws_frames_per_window, settings.ws_frame_window
            )
        )
        if retry_after is not None:
            raise rate_limited(retry_after, N_("Too many frames; try again in {seconds} s."))

    def ack(self, ref: str | int | None, seq: int | None = None) -> None:
        frame: Ack = {"type": "ack"}
        if ref is not None:
            frame["ref"] = ref
        if seq is not None:
            frame["seq"] = seq
        self.connection.push(frame)

    def seated(self) -> tuple[int, Principal, Seat]:
        if self.principal is None:
            raise ForumError(ErrorCode.UNAUTHENTICATED, N_("Sign in to take part."))
        if self.connection.room_id is None or self.connection.seat is None:
            raise ForumError(ErrorCode.CONFLICT, N_("Join a room first."))
        return self.connection.room_id, self.principal, self.connection.seat

    async def dispatch(self, frame: ClientFrame) -> None:
        if isinstance(frame, Ping):
            pong: Pong = {"type": "pong"}
            if frame.ref is not None:
                pong["ref"] = frame.ref
            self.connection.push(pong)
            return
        if isinstance(frame, Join):
            await join_room(self.state, self.hub, self.connection, self.principal, frame)
            return
        if isinstance(frame, Leave):
            room_id, _, _ = self.seated()
            await self.hub.leave(self.connection)
            self.connection.push({"type": "left", "room": room_id})
            self.ack(frame.ref)
            return
        room_id, principal, seat = self.seated()
        user = principal.user
        broker = self.state["broker"]
        async with self.state["sessionmaker"]() as session:
            if isinstance(frame, PauseFloor | ResumeFloor | GetEquity):
                done = await dispatch_floor(frame, session, broker, room_id, user=user)
                if isinstance(done, dict):
                    self.connection.push(done)
                    return
                event = done
            elif isinstance(frame, Speak):
                await self.check_speak_rate(user.id)
                event = await speaking.do_intervene(
                    session, broker, room_id, user=user, seat=seat, body=frame.body
                )
            elif isinstance(frame, RaiseHand):
                event = await speaking.do_raise_hand(
                    session,
                    broker,
                    room_id,
                    user=user,
                    seat=seat,
                    point_of_order=frame.point_of_order,
                    note=frame.note,
                )
            elif isinstance(frame, LowerHand):
                event = await speaking.do_lower_hand(
                    session, broker, room_id, user=user, target_id=frame.user_id
                )
            elif isinstance(frame, LowerAllHands):
                event = await speaking.do_lower_all_hands(session, broker, room_id, user=user)
            elif isinstance(frame, OpenSession | CloseSession):
                action = do_open_session if isinstance(frame, OpenSession) else do_close_session
                row = await action(session, broker, room_id, user=user, session_id=frame.session_id)
                seq = row.open_seq if isinstance(frame, OpenSession) else row.close_seq
                assert seq is not None  # noqa: S101 - set by the action with its event
                self.ack(frame.ref, seq)
                return
            elif isinstance(frame, MoveInQueue):
                event = await speaking.do_move_in_queue(
                    session,
                    broker,
                    room_id,
                    user=user,
                    target_id=frame.user_id,
                    position=frame.position,
                )
            elif isinstance(frame, GiveFloor):
                event = await speaking.do_give_floor(
                    session,
                    broker,
                    room_id,
                    user=user,
                    target_id=frame.user_id,
                    limit_s=frame.limit_s,
                )
            elif isinstance(frame, TakeFloor):
                event = await speaking.do_take_floor(session, broker, room_id, user=user)
            elif isinstance(frame, VoiceTurn):
                event = await do_record_voice_turn(
                    session,
                    broker,
                    room_id,
                    user=user,
                    speaker_id=frame.user_id,
                    duration_s=frame.duration_s,
                )
            elif isinstance(frame, ExtendFloor):
                event = await speaking.do_extend_floor(
                    session, broker, room_id, user=user, seconds=frame.seconds
                )
            else:
                assert isinstance(frame, SetPolicy)  # noqa: S101 - the union is exhausted
                event = await speaking.do_set_queue_policy(
                    session, broker, room_id, user=user, policy=frame.policy
                )
        self.ack(frame.ref, event.seq)

    async def check_speak_rate(self, user_id: int) -> None:
        settings = self.state["settings"]
        retry_after = await self.state["limiter"].hit(
            Limit(f"speak:{user_id}", settings.post_limit, settings.post_window)
        )
        if retry_after is not None:
            raise rate_limited(retry_after, N_("Too many interventions; try again in {seconds} s."))


def routes() -> list[WebSocketRoute]:
    return [WebSocketRoute("/ws", room_endpoint)]
