"""`/ws`: the room protocol's endpoint (docs/protocol.md).

The handshake checks the Origin (cross-site WebSocket hijacking: a wrong one gets 403,
never 101) and the credentials (session cookie or bearer token). After that every
frame is rate limited, parsed, and handed to an action; a refusal is an error frame
and the connection stays open.

The socket is read while actions run, frames waiting their turn in a small inbox
(`forum.ws.inbox`).

Who is on the connection is kept as ids: the user row is read again by each action
that needs it, so that thousands of listeners do not each hold one.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, cast

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import HTTPConnection
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket

from forum.actions import speaking
from forum.actions.rooms import do_close_session, do_open_session
from forum.actions.voice import do_record_voice_turn
from forum.audit import audited, log_refusal
from forum.auth import SESSION_COOKIE, authenticate, bearer_token, cookies_from_header
from forum.db.base import utcnow
from forum.db.failures import database_unavailable
from forum.db.models import User
from forum.domain.vocabulary import Seat
from forum.errors import N_, ErrorCode, ForumError
from forum.i18n.negotiate import LANGUAGE_COOKIE
from forum.i18n.reader import Reader, reader_of
from forum.limits import Limit, rate_limited
from forum.origins import allowed_origin
from forum.state import AppState
from forum.wire.frames import Ack, Hello, Pong
from forum.ws.connection import Connection, signed_user
from forum.ws.direct_send import release_handshake
from forum.ws.floor_frames import dispatch_floor
from forum.ws.handshake import admit
from forum.ws.hub import Hub
from forum.ws.inbox import Inbox
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

PATH = "/ws"
log = logging.getLogger(__name__)


async def room_endpoint(websocket: WebSocket) -> None:
    opened = await _open(websocket)
    if opened is None:
        return
    session, hello = opened
    connection = session.connection
    try:
        await session.hub.connect(connection)
        connection.push(hello)
        await session.run()
    finally:
        await session.hub.disconnect(connection)


async def _open(websocket: WebSocket) -> tuple[Session, Hello] | None:
    """Check and accept the connection: its receive loop and `hello`, or None once it
    has been refused. Apart so that the user row read here is not kept for the life of
    the connection; the handshake's headers are read through a connection object of
    their own, so that the WebSocket kept for the connection's life caches none."""
    state = cast(AppState, websocket.scope["state"])
    settings = state["settings"]
    handshake = HTTPConnection(websocket.scope)
    headers = handshake.headers
    client = websocket.client.host if websocket.client else "unknown"
    origin = headers.get("origin")
    if not allowed_origin(handshake, settings.allowed_origins):
        log_refusal("forbidden", ip=client, origin=origin, path=PATH, detail="origin")
        await websocket.close()  # before accept: uvicorn answers 403
        return None
    cookies = cookies_from_header(headers.get("cookie"))
    cookie = cookies.get(SESSION_COOKIE)
    authorization = headers.get("authorization")
    async with state["sessionmaker"]() as session:
        principal = await authenticate(
            session, settings.secret_key, cookie=cookie, authorization=authorization
        )
    await websocket.accept()
    if principal is None and (cookie or bearer_token(authorization)):
        log_refusal("unauthenticated", ip=client, origin=origin, path=PATH, detail="credentials")
        await websocket.close(CLOSE_UNAUTHENTICATED, "credentials expired or unknown")
        return None
    user = principal.user if principal else None
    # Error frames are in the language the connection's pages are: profile, cookie,
    # Accept-Language of the handshake.
    reader = reader_of(
        language=user.language if user else None,
        time_zone=None,
        cookie=cookies.get(LANGUAGE_COOKIE),
        accept_language=headers.get("accept-language"),
    )
    user_id = user.id if user else None
    admission = await admit(
        websocket, state, address=client, user_id=user_id, origin=origin, path=PATH
    )
    if admission is None:
        return None
    hub = state["hub"]
    # A live peer answers a ping within the ping timeout; one that cannot even take
    # our frames for that long is as good as gone. The hub gives the admission back
    # when it forgets the connection, however that happens.
    connection = hub.connection(
        websocket, principal, stall_timeout=settings.ws_ping_timeout, admission=admission
    )
    hello: Hello = {
        "type": "hello",
        "user": user.public() if user else None,
        "server_time": utcnow().isoformat(),
        "max_frame_bytes": settings.ws_max_size,
    }
    signed = (principal.kind, principal.expires_at) if principal else None
    release_handshake(websocket)
    return Session(state, hub, connection, signed, client, origin, reader), hello


class Session(Inbox):
    """What one connection's frames do: rate limited, parsed, handed to an action."""

    __slots__ = ("reader", "state", "hub", "signed", "client", "origin", "refused_in_a_row")

    def __init__(
        self,
        state: AppState,
        hub: Hub,
        connection: Connection,
        signed: tuple[str, datetime] | None,
        client: str,
        origin: str | None,
        reader: Reader,
    ) -> None:
        super().__init__(connection)
        self.reader = reader
        self.state = state
        self.hub = hub
        # How it signed in ("cookie", "bearer") and until when, None signed out.
        self.signed = signed
        self.client = client
        self.origin = origin
        self.refused_in_a_row = 0

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
                    user_id=self.connection.user_id,
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

    def seated(self) -> tuple[int, int, Seat]:
        user_id = self.connection.user_id
        if user_id is None:
            raise ForumError(ErrorCode.UNAUTHENTICATED, N_("Sign in to take part."))
        if self.connection.room_id is None or self.connection.seat is None:
            raise ForumError(ErrorCode.CONFLICT, N_("Join a room first."))
        return self.connection.room_id, user_id, self.connection.seat

    async def user(self, session: AsyncSession, user_id: int) -> User:
        """The connection's user, read afresh for the action (gone: signed out)."""
        user = await signed_user(session, user_id)
        if user is None:
            raise ForumError(ErrorCode.UNAUTHENTICATED, N_("Sign in to take part."))
        return user

    async def dispatch(self, frame: ClientFrame) -> None:
        if isinstance(frame, Ping):
            pong: Pong = {"type": "pong"}
            if frame.ref is not None:
                pong["ref"] = frame.ref
            self.connection.push(pong)
            return
        if isinstance(frame, Join):
            signed_in = self.signed is not None
            await join_room(self.state, self.hub, self.connection, frame, signed_in=signed_in)
            return
        if isinstance(frame, Leave):
            room_id, _, _ = self.seated()
            await self.hub.leave(self.connection)
            self.connection.push({"type": "left", "room": room_id})
            self.ack(frame.ref)
            return
        room_id, user_id, seat = self.seated()
        broker = self.state["broker"]
        async with self.state["sessionmaker"]() as session:
            user = await self.user(session, user_id)
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
