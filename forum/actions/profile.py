"""A person's own settings: their details, language and time zone, password, sessions,
and the request to be counted in another stakeholder family."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from forum.actions.board_refresh import Bumped, announce, bump_boards
from forum.broker import Broker, user_channel
from forum.db.base import utcnow
from forum.db.engine import end_read, write_transaction
from forum.db.models import AuthSession, FamilyRequest, User
from forum.domain.regions import region_of
from forum.domain.structure import check_family_change
from forum.domain.textcheck import clean_line
from forum.errors import N_, ErrorCode, ForumError
from forum.i18n.negotiate import supported
from forum.i18n.reader import valid_time_zone
from forum.limits import Limit, RateLimiter, rate_limited
from forum.passwords import Hasher, check_password_policy, hasher
from forum.wire.events import SessionEnded

log = logging.getLogger(__name__)

PENDING = "pending"


@dataclass(frozen=True)
class ProfileChange:
    display_name: str
    organization: str
    country: str
    region: str
    language: str | None  # None: follow the browser
    time_zone: str | None  # None: the browser's, or UTC without script


async def do_set_locale(
    session: AsyncSession, user_id: int, *, language: str, time_zone: str | None
) -> None:
    """Keep `language` (one the interface offers) and, when the browser told it,
    `time_zone` (a known IANA name); the caller has checked both."""
    values: dict[str, str] = {"language": language}
    if time_zone is not None:
        values["time_zone"] = time_zone
    async with write_transaction(session):
        await session.execute(update(User).where(User.id == user_id).values(**values))


def check_profile(
    *, display_name: str, organization: str, country: str, language: str, time_zone: str
) -> ProfileChange:
    """The profile form or body, checked field by field; an empty language or time
    zone means "follow the browser"."""
    name = clean_line(display_name, field="display_name", max_chars=100)
    org = clean_line(organization, field="organization", max_chars=200)
    code = country.strip().upper()
    region = region_of(code) if code else None
    if region is None:
        raise ForumError(ErrorCode.VALIDATION, N_("Choose your country."), field="country")
    chosen = None
    if language.strip():
        chosen = supported(language.strip())
        if chosen is None:
            raise ForumError(
                ErrorCode.VALIDATION, N_("Choose one of the languages offered."), field="language"
            )
    zone = None
    if time_zone.strip():
        zone = valid_time_zone(time_zone.strip())
        if zone is None:
            raise ForumError(ErrorCode.VALIDATION, N_("Unknown time zone."), field="time_zone")
    return ProfileChange(name, org, code, region, chosen, zone)


async def do_update_profile(
    session: AsyncSession, broker: Broker, user_id: int, change: ProfileChange
) -> None:
    bumped: Bumped = []
    async with write_transaction(session):
        shown = (
            await session.execute(
                select(User.display_name, User.organization, User.country, User.region).where(
                    User.id == user_id
                )
            )
        ).one_or_none()
        if shown is not None and tuple(shown) != (
            change.display_name,
            change.organization,
            change.country,
            change.region,
        ):
            # What the boards show of the author: their kept pages go.
            bumped = await bump_boards(session)
        await session.execute(
            update(User)
            .where(User.id == user_id)
            .values(
                display_name=change.display_name,
                organization=change.organization,
                country=change.country,
                region=change.region,
                language=change.language,
                time_zone=change.time_zone,
            )
        )
    await announce(broker, bumped)


async def _end_sessions(session: AsyncSession, user_id: int, *, keep: int | None) -> list[int]:
    """End every session of the person but `keep`, inside the caller's transaction;
    returns their ids, to publish after commit."""
    query = select(AuthSession.id).where(AuthSession.user_id == user_id)
    if keep is not None:
        query = query.where(AuthSession.id != keep)
    ended = list((await session.scalars(query)).all())
    if ended:
        await session.execute(delete(AuthSession).where(AuthSession.id.in_(ended)))
    return ended


async def _publish_ended(broker: Broker, user_id: int, ended: list[int]) -> None:
    # The hub of each worker closes the sockets opened with these sessions (the same
    # notice as one sign-out). After commit: a lost notice leaves a socket whose next
    # reconnection is refused, never a session alive.
    for session_id in ended:
        notice: SessionEnded = {"type": "session", "op": "ended", "session_id": session_id}
        try:
            await broker.publish(user_channel(user_id), notice)
        except Exception:
            log.exception("publishing the end of a session of user %d failed", user_id)


async def do_sign_out_everywhere(session: AsyncSession, broker: Broker, *, user_id: int) -> int:
    """End every session of the person (browsers and API tokens); returns how many."""
    async with write_transaction(session):
        ended = await _end_sessions(session, user_id, keep=None)
    await _publish_ended(broker, user_id, ended)
    return len(ended)


async def do_change_password(
    session: AsyncSession,
    broker: Broker,
    limiter: RateLimiter,
    limit: Limit,
    *,
    user: User,
    current: str,
    new: str,
    keep_session_id: int,
    passwords: Hasher | None = None,
) -> int:
    """Check the current password (counted against `limit` before it is checked, as a
    sign-in is), then store the new one under the policy and end the person's other
    sessions, since whoever knew the old password may hold one. Returns how many ended."""
    retry_after = await limiter.hit(limit)
    if retry_after is not None:
        raise rate_limited(retry_after, N_("Too many password attempts; try again in {seconds} s."))
    stored = await session.scalar(select(User.password_hash).where(User.id == user.id))
    await end_read(session)
    passwords = passwords or hasher()
    if not await passwords.verify_async(stored, current):
        raise ForumError(
            ErrorCode.VALIDATION, N_("The current password is wrong."), field="current_password"
        )
    check_password_policy(new, email=user.email, name=user.display_name)
    if new == current:
        raise ForumError(
            ErrorCode.VALIDATION,
            N_("The new password must differ from the current one."),
            field="password",
        )
    await limiter.forget(limit.key)
    new_hash = await passwords.hash_async(new)
    async with write_transaction(session):
        await session.execute(update(User).where(User.id == user.id).values(password_hash=new_hash))
        ended = await _end_sessions(session, user.id, keep=keep_session_id)
    await _publish_ended(broker, user.id, ended)
    return len(ended)


async def do_request_family_change(
    session: AsyncSession, *, user_id: int, family: str
) -> FamilyRequest:
    """Ask the secretariat to count the person in `family`. A pending request is
    replaced, not doubled (`do_withdraw_family_request` takes it back)."""
    async with write_transaction(session):
        person = await session.get(User, user_id, with_for_update=True)
        if person is None:
            raise ForumError(ErrorCode.NOT_FOUND, N_("No such person."))
        pending = await session.scalar(
            select(FamilyRequest).where(
                FamilyRequest.user_id == user_id, FamilyRequest.status == PENDING
            )
        )
        wanted = check_family_change(person.family, family)
        if pending is None:
            pending = FamilyRequest(user_id=user_id, family=wanted, previous=person.family)
            session.add(pending)
        else:
            pending.family = wanted
            pending.created_at = utcnow()
    return pending


async def do_withdraw_family_request(session: AsyncSession, *, user_id: int) -> None:
    async with write_transaction(session):
        found = await session.execute(
            delete(FamilyRequest).where(
                FamilyRequest.user_id == user_id, FamilyRequest.status == PENDING
            )
        )
        if not found.rowcount:  # type: ignore[attr-defined]
            raise ForumError(ErrorCode.NOT_FOUND, N_("You have no pending request."))
