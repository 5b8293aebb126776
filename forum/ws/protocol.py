"""The frames of the room protocol (docs/protocol.md) and its close codes.

Client frames are JSON objects with a `type`; each may carry a `ref` the server echoes
in the `ack` or `error` that answers it. Server frames are JSON objects with a `type`
too; room events also carry `op` and the room's `seq`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Annotated, Any, Literal, cast

import orjson
from pydantic import BaseModel, ConfigDict, Field, Strict, TypeAdapter, ValidationError

from forum.db.base import ID_MAX
from forum.domain.floor import Note
from forum.domain.speaking import QueuePolicy
from forum.domain.vocabulary import Seat
from forum.errors import N_, ErrorCode, ForumError
from forum.storable import find_unstorable, unstorable_text
from forum.wire.frames import ErrorFrame

# Close codes. 1xxx are the standard ones the server also uses:
# 1003 binary frame (the protocol is text), 1007 invalid UTF-8, 1009 frame too large,
# 1012 server restarting. Ours, in 4000-4999:
CLOSE_SLOW_CONSUMER = 4000
"""The client fell behind its send queue, or could not take a frame for the ping timeout.
Reconnect and join with `since`."""
CLOSE_UNAUTHENTICATED = 4401
"""Credentials missing where needed, expired, or the session ended (sign-out)."""
CLOSE_FLOOD = 4429
"""The client went on sending after being told it was rate limited."""
CLOSE_TOO_MANY_CONNECTIONS = 4503
"""Refused at the handshake: too many connections open from the address or the account,
from signed-out readers, or in all (the reason says which). Try again later."""

# Frames per window and the flood tolerance are settings (ws_frames_per_window...).
MAX_REPLAY = 5000
REF_MAX = 64

Ref = Annotated[str, Field(max_length=REF_MAX)] | Annotated[int, Strict(), Field(ge=0, le=2**53)]
UserId = Annotated[int, Strict(), Field(ge=1, le=ID_MAX)]


class _Frame(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    ref: Ref | None = None


SPECTATOR = "spectator"


class Join(_Frame):
    type: Literal["join"]
    room: Annotated[str, Field(min_length=1, max_length=80)]
    # "spectator": a signed-out client watching, counted and never listed.
    seat: Seat | Literal["spectator"]
    since: Annotated[int, Strict(), Field(ge=0, le=ID_MAX)] | None = None


class Leave(_Frame):
    type: Literal["leave"]


class Ping(_Frame):
    type: Literal["ping"]


class RaiseHand(_Frame):
    type: Literal["raise_hand"]
    point_of_order: Annotated[bool, Strict()] = False
    note: Note | None = None


class LowerHand(_Frame):
    type: Literal["lower_hand"]
    user_id: UserId | None = None


class LowerAllHands(_Frame):
    type: Literal["lower_all_hands"]


class MoveInQueue(_Frame):
    type: Literal["move"]
    user_id: UserId
    position: Annotated[int, Strict(), Field(ge=0, le=10_000)]


class GiveFloor(_Frame):
    type: Literal["give_floor"]
    user_id: UserId | None = None
    limit_s: Annotated[int, Strict(), Field(ge=0, le=86_400)] | None = None


class TakeFloor(_Frame):
    type: Literal["take_floor"]


class ExtendFloor(_Frame):
    type: Literal["extend_floor"]
    seconds: Annotated[int, Strict(), Field(ge=0, le=86_400)]


class PauseFloor(_Frame):
    type: Literal["pause_floor"]


class ResumeFloor(_Frame):
    type: Literal["resume_floor"]


class GetEquity(_Frame):
    """The chair asks for the open session's equity figures; answered by `equity`."""

    type: Literal["get_equity"]


class SetPolicy(_Frame):
    type: Literal["set_policy"]
    policy: QueuePolicy


SessionId = Annotated[int, Field(ge=1, le=2**53)]


class OpenSession(_Frame):
    type: Literal["open_session"]
    session_id: SessionId


class CloseSession(_Frame):
    type: Literal["close_session"]
    session_id: SessionId


class Speak(_Frame):
    type: Literal["speak"]
    body: Annotated[str, Field(max_length=16_384)]


class VoiceTurn(_Frame):
    """The chair records that `user_id` took the floor by voice (forum/domain/voice.py)."""

    type: Literal["voice_turn"]
    user_id: UserId
    duration_s: Annotated[int, Strict(), Field(ge=0, le=86_400)] | None = None


ClientFrame = Annotated[
    Join
    | Leave
    | Ping
    | RaiseHand
    | LowerHand
    | LowerAllHands
    | MoveInQueue
    | GiveFloor
    | TakeFloor
    | ExtendFloor
    | SetPolicy
    | OpenSession
    | CloseSession
    | Speak
    | VoiceTurn
    | PauseFloor
    | ResumeFloor
    | GetEquity,
    Field(discriminator="type"),
]
FRAME_TYPES = frozenset(
    {
        "join",
        "leave",
        "ping",
        "raise_hand",
        "lower_hand",
        "lower_all_hands",
        "move",
        "give_floor",
        "take_floor",
        "extend_floor",
        "set_policy",
        "open_session",
        "close_session",
        "speak",
        "voice_turn",
        "pause_floor",
        "resume_floor",
        "get_equity",
    }
)
_ADAPTER: TypeAdapter[ClientFrame] = TypeAdapter(ClientFrame)


_REF_ADAPTER: TypeAdapter[Ref] = TypeAdapter(Ref)


def parse_frame(text: str) -> ClientFrame:
    """A client frame, or a ForumError naming what is wrong with it."""
    return validate_frame(decode_frame(text))


def decode_frame(text: str) -> dict[str, Any]:
    """The frame's JSON object, or `invalid_json`."""
    try:
        data = orjson.loads(text)
    except orjson.JSONDecodeError:
        # orjson refuses some text JSON allows (an escaped unpaired surrogate): read
        # again by `json`, such a frame is refused for what it holds, naming the field.
        try:
            data = json.loads(text)
        except (ValueError, RecursionError):
            raise ForumError(ErrorCode.INVALID_JSON, N_("The frame is not valid JSON.")) from None
    if not isinstance(data, dict):
        raise ForumError(ErrorCode.INVALID_JSON, N_("A frame is a JSON object."))
    return data


def frame_ref(data: dict[str, Any] | None) -> str | int | None:
    """The frame's `ref` if it is a valid one, to echo in whatever answers the frame,
    refusals included: a client matches answers to frames by it. A ref that could not
    be sent back as it came (a NUL, an unpaired surrogate) is not one."""
    if data is None or "ref" not in data:
        return None
    try:
        ref = _REF_ADAPTER.validate_python(data["ref"])
    except ValidationError:
        return None
    if isinstance(ref, str) and unstorable_text(ref) is not None:
        return None
    return ref


def validate_frame(data: dict[str, Any]) -> ClientFrame:
    kind = data.get("type")
    if not isinstance(kind, str) or kind not in FRAME_TYPES:
        raise ForumError(
            ErrorCode.BAD_REQUEST,
            N_("Unknown frame type {type}."),
            field="type",
            params={"type": repr(str(kind)[:40])},
        )
    found = find_unstorable(data)
    if found is not None:
        where, problem = found
        raise ForumError(
            ErrorCode.VALIDATION,
            N_("Bad field {name}: it holds {problem}."),
            field=where,
            params={"name": repr(where), "problem": problem},
        )
    try:
        return _ADAPTER.validate_python(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        # The location is (frame type, field, union member...): frames are flat.
        field = str(first["loc"][1]) if len(first["loc"]) > 1 else None
        raise ForumError(
            ErrorCode.VALIDATION,
            N_("Bad field {name}: {detail}."),
            field=field,
            params={"name": repr(field), "detail": first["msg"]},
        ) from None


# Compact, UTF-8 with non-ASCII kept; keys that are not strings (ids) become strings,
# as `json` makes them.
_ENCODE = orjson.OPT_NON_STR_KEYS


def encode_bytes(frame: Mapping[str, Any]) -> bytes:
    """The frame as UTF-8 JSON, ready to be framed (`forum.ws.direct_send.Outgoing`)."""
    return orjson.dumps(frame, option=_ENCODE)


def encode(frame: Mapping[str, Any]) -> str:
    return orjson.dumps(frame, option=_ENCODE).decode()


def error_frame(
    error: ForumError, ref: str | int | None = None, gettext: Callable[[str], str] | None = None
) -> ErrorFrame:
    """The one place an error frame is built: its message in the reader's language."""
    body = error.body(gettext)
    if ref is not None:
        body["ref"] = ref
    # The body's keys are ErrorFrame's and the error's own details (`extra`).
    return cast(ErrorFrame, {"type": "error", **body})
