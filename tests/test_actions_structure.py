"""Account and membership actions straight on the storage, on SQLite and PostgreSQL:
the paths HTTP cannot reach on demand (races, rehashing, a person in several bureaus)."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from forum.actions import accounts
from forum.actions.accounts import LoginPolicy, do_login, do_register
from forum.actions.groups import do_set_member_role
from forum.broker.memory import MemoryBroker
from forum.db.models import Membership, User
from forum.db.queries import get_group
from forum.domain.regions import country_name, region_of
from forum.domain.vocabulary import Role
from forum.errors import ErrorCode, ForumError
from forum.limits import MemoryRateLimiter
from tests.factory import PASSWORD, registration


async def test_the_unique_index_decides_a_raced_registration(
    session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    await do_register(session, registration("twice@example.org"))

    async def nobody(*_: object) -> None:
        return None  # as if the other registration had not committed yet

    monkeypatch.setattr(accounts, "get_user_by_email", nobody)
    with pytest.raises(ForumError) as error:
        await do_register(session, registration("twice@example.org"))
    assert error.value.code == ErrorCode.EMAIL_TAKEN
    assert await session.scalar(select(func.count()).select_from(User)) == 1


async def test_sign_in_rehashes_a_password_hashed_with_old_parameters(
    session: AsyncSession,
) -> None:
    user = await do_register(session, registration("old@example.org"))
    old = PasswordHasher(time_cost=1, memory_cost=8192).hash(PASSWORD)
    async with session.begin():
        (await session.get(User, user.id)).password_hash = old  # type: ignore[union-attr]
    signed_in = await do_login(
        session,
        MemoryRateLimiter(),
        email="old@example.org",
        password=PASSWORD,
        client_ip="192.0.2.1",
        kind="cookie",
        max_age=60,
        policy=LoginPolicy(attempts=5, account_attempts=20, address_attempts=100, window=900),
    )
    assert signed_in.user.id == user.id
    user_id = user.id
    session.expire_all()
    stored = await session.scalar(select(User.password_hash).where(User.id == user_id))
    assert stored != old and stored is not None and stored.startswith("$argon2id$")
    assert not PasswordHasher().check_needs_rehash(stored)


async def test_sign_in_keeps_a_password_hashed_with_the_parameters_of_now(
    session: AsyncSession,
) -> None:
    user = await do_register(session, registration("current@example.org"))
    user_id, current = user.id, user.password_hash
    await do_login(
        session,
        MemoryRateLimiter(),
        email="current@example.org",
        password=PASSWORD,
        client_ip="192.0.2.1",
        kind="cookie",
        max_age=60,
        policy=LoginPolicy(attempts=5, account_attempts=20, address_attempts=100, window=900),
    )
    session.expire_all()
    stored = await session.scalar(select(User.password_hash).where(User.id == user_id))
    assert stored == current  # hashed again, it would have a new salt


async def test_roles_change_and_removals_need_a_member(session: AsyncSession) -> None:
    broker = MemoryBroker()
    secretariat = await do_register(session, registration("sec@example.org"))
    async with session.begin():
        (await session.get(User, secretariat.id)).is_secretariat = True  # type: ignore[union-attr]
    person = await do_register(session, registration("p@example.org"))
    caucus = await get_group(session, "youth-caucus")
    await session.commit()
    assert caucus is not None
    outsider = await do_register(session, registration("o@example.org"))
    await do_set_member_role(
        session, broker, actor=secretariat, slug=caucus.slug, user_id=person.id, role=Role.MEMBER
    )
    changed = await do_set_member_role(
        session,
        broker,
        actor=secretariat,
        slug=caucus.slug,
        user_id=person.id,
        role=Role.COORDINATOR,
    )
    assert changed is not None and changed.role == Role.COORDINATOR
    roles = (await session.scalars(select(Membership.role))).all()
    assert roles == ["coordinator"]
    await session.commit()
    with pytest.raises(ForumError) as error:
        await do_set_member_role(
            session, broker, actor=secretariat, slug=caucus.slug, user_id=outsider.id, role=None
        )
    assert error.value.code == ErrorCode.NOT_MEMBER


async def test_a_person_sitting_on_two_bureaus_counts_in_both(session: AsyncSession) -> None:
    broker = MemoryBroker()
    secretariat = await do_register(session, registration("sec2@example.org"))
    async with session.begin():
        (await session.get(User, secretariat.id)).is_secretariat = True  # type: ignore[union-attr]
    government = await do_register(session, registration("gov@example.org", "government"))
    both = await do_register(session, registration("both@example.org"))

    async def appoint(slug: str, user_id: int) -> None:
        await do_set_member_role(
            session, broker, actor=secretariat, slug=slug, user_id=user_id, role=Role.MEMBER
        )

    await appoint("government-bureau", government.id)
    await appoint("business-bureau", both.id)
    # Already on the business bureau, this person now joins the civil society one too:
    # both bureaus hold one member, as the governmental one does.
    await appoint("cs-bureau", both.id)
    extra = await do_register(session, registration("extra@example.org", "private_sector"))
    with pytest.raises(ForumError) as error:
        await appoint("business-bureau", extra.id)
    assert error.value.code == ErrorCode.BUREAU_LIMIT


def test_countries_and_regions() -> None:
    assert region_of(" sn ") == "africa"
    assert country_name("br") == "Brazil"
    assert country_name("XX") is None and region_of("XX") is None
