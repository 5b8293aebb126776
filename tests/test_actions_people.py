"""Account, profile and secretariat actions straight on the storage, on SQLite and
PostgreSQL: the refusals and failures a form or the API does not reach on demand (a
race, a broker down, a limit already spent), each with its code and nothing written."""

from __future__ import annotations

from collections.abc import Awaitable

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from forum.actions import profile, secretariat
from forum.actions.accounts import check_register
from forum.actions.secretariat import GroupFields
from forum.broker.memory import MemoryBroker
from forum.db.models import AuthSession, Group, GroupActionLine, Room, User
from forum.errors import ErrorCode, ForumError
from forum.limits import Limit, MemoryRateLimiter
from forum.passwords import Hasher
from tests import factory
from tests.capture import broker_down
from tests.factory import CHEAP_HASHING, PASSWORD

FIELDS = GroupFields("Youth and ICT", "For the young.", None, ("C3",))
CHEAP = Hasher(
    time_cost=CHEAP_HASHING["password_time_cost"],
    memory_cost=CHEAP_HASHING["password_memory_cost"],
    parallelism=CHEAP_HASHING["password_parallelism"],
)


async def person(session: AsyncSession, *, secretariat: bool = False) -> User:
    async with session.begin():
        user = await factory.make_user(session, secretariat=secretariat)
    session.expunge(user)  # as a request holds it: a rollback does not expire it
    return user


async def rows(session: AsyncSession, *models: type[object]) -> list[int | None]:
    found = [await session.scalar(select(func.count()).select_from(m)) for m in models]
    await session.commit()
    return found


def create(session: AsyncSession, actor: User, fields: GroupFields) -> Awaitable[Group]:
    return secretariat.do_create_group(
        session, actor=actor, slug="youth-ict", kind="caucus", family="civil_society", fields=fields
    )


async def test_a_country_is_required_where_a_person_says_where_they_are() -> None:
    with pytest.raises(ForumError) as registering:
        check_register(
            email="a@example.org",
            password=PASSWORD,
            display_name="A",
            family="government",
            organization="Org",
            country="  ",
        )
    assert (registering.value.code, registering.value.field) == (ErrorCode.VALIDATION, "country")
    with pytest.raises(ForumError) as editing:
        profile.check_profile(
            display_name="A", organization="Org", country="ZZ", language="", time_zone=""
        )
    assert (editing.value.code, editing.value.field) == (ErrorCode.VALIDATION, "country")


def _register(**change: str) -> ForumError:
    fields = {
        "email": "a@example.org",
        "password": PASSWORD,
        "display_name": "A",
        "family": "government",
        "organization": "Org",
        "country": "KE",
    }
    with pytest.raises(ForumError) as refused:
        check_register(**{**fields, **change})
    return refused.value


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        # One character longer than mail carries (RFC 5321), though well formed.
        ({"email": "a" * 64 + "@" + "d" * 186 + ".org"}, "email", "This is not an email address."),
        ({"family": " "}, "family", "Choose your stakeholder family."),
        ({"family": "press"}, "family", "Unknown stakeholder family; use one of: {families}."),
        ({"country": " "}, "country", "Choose your country."),
        (
            {"country": "XX"},
            "country",
            "Unknown country; use its two-letter ISO 3166 code, such as KE or BR.",
        ),
    ],
)
def test_each_refused_registration_names_its_field_and_says_why(
    change: dict[str, str], field: str, message: str
) -> None:
    refused = _register(**change)
    assert (refused.code, refused.field, refused.msgid) == (ErrorCode.VALIDATION, field, message)


def test_an_unknown_family_is_told_the_families_there_are() -> None:
    assert _register(family="press").message == (
        "Unknown stakeholder family; use one of: "
        "government, civil_society, private_sector, international_org."
    )


def test_a_name_and_an_organization_are_read_up_to_their_lengths() -> None:
    accepted = check_register(
        email="a@example.org",
        password=PASSWORD,
        display_name="n" * 100,
        family="government",
        organization="o" * 200,
        country="KE",
    )
    assert (len(accepted.display_name), len(accepted.organization)) == (100, 200)
    name, organization = _register(display_name="n" * 101), _register(organization="o" * 201)
    assert (name.field, name.params["max"]) == ("display_name", 100)
    assert (organization.field, organization.params["max"]) == ("organization", 200)


@pytest.mark.parametrize(
    "change",
    [
        {"email": "amina.diallo@example.org", "password": "my amina.diallo passphrase"},
        {"display_name": "Amina Diallo of Dakar", "password": "amina diallo of dakar"},
    ],
)
def test_a_password_that_holds_the_address_or_is_the_name_is_refused(
    change: dict[str, str],
) -> None:
    refused = _register(**change)
    assert (refused.code, refused.field) == (ErrorCode.WEAK_PASSWORD, "password")
    assert refused.msgid == "The password must not contain your email or name."


async def test_a_password_change_is_limited_and_must_change_something(
    session: AsyncSession,
) -> None:
    user = await person(session)
    limiter = MemoryRateLimiter()
    limit = Limit(f"password:{user.id}", 1, 60)

    def change(new: str) -> Awaitable[int]:
        return profile.do_change_password(
            session,
            MemoryBroker(),
            limiter,
            limit,
            user=user,
            current=PASSWORD,
            new=new,
            keep_session_id=0,
            passwords=CHEAP,
        )

    stored = await session.scalar(select(User.password_hash).where(User.id == user.id))
    await session.commit()
    with pytest.raises(ForumError) as same:
        await change(PASSWORD)
    assert (same.value.code, same.value.field) == (ErrorCode.VALIDATION, "password")
    with pytest.raises(ForumError) as limited:
        await change("a quite different passphrase")
    assert limited.value.code is ErrorCode.RATE_LIMITED
    assert await session.scalar(select(User.password_hash).where(User.id == user.id)) == stored


async def test_signing_out_everywhere_with_the_broker_down_still_ends_the_sessions(
    session: AsyncSession, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    user = await person(session)
    async with session.begin():
        for _ in range(2):
            await factory.issue_token(session, user.id)

    broker = MemoryBroker()
    broker_down(monkeypatch, broker)
    assert await profile.do_sign_out_everywhere(session, broker, user_id=user.id) == 2
    live = select(func.count()).select_from(AuthSession).where(AuthSession.user_id == user.id)
    assert await session.scalar(live) == 0
    assert caplog.text.count(f"publishing the end of a session of user {user.id} failed") == 2


async def test_a_family_request_for_nobody_is_not_found(session: AsyncSession) -> None:
    with pytest.raises(ForumError) as caught:
        await profile.do_request_family_change(session, user_id=10**9, family="government")
    assert caught.value.code is ErrorCode.NOT_FOUND


async def test_the_secretariat_appoints_only_an_active_account(session: AsyncSession) -> None:
    with pytest.raises(ForumError) as unknown:
        await secretariat.do_appoint_secretariat(session, "nobody@example.org")
    assert (unknown.value.code, unknown.value.field) == (ErrorCode.NOT_FOUND, "email")
    user = await person(session)
    user_id, email = user.id, user.email
    async with session.begin():
        await session.execute(update(User).where(User.id == user_id).values(is_active=False))
    with pytest.raises(ForumError) as inactive:
        await secretariat.do_appoint_secretariat(session, email)
    assert inactive.value.code is ErrorCode.CONFLICT
    assert not await session.scalar(select(User.is_secretariat).where(User.id == user_id))


async def test_groups_are_made_and_edited_with_known_action_lines_only(
    session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    actor = await person(session, secretariat=True)
    before = await rows(session, Group, Room, GroupActionLine)
    with pytest.raises(ForumError) as unknown:
        await create(session, actor, GroupFields("Youth", "", None, ("C3", "C99")))
    assert (unknown.value.code, unknown.value.params) == (ErrorCode.VALIDATION, {"code": "C99"})
    assert await rows(session, Group, Room, GroupActionLine) == before

    group = await create(session, actor, FIELDS)
    edited = await secretariat.do_edit_group(
        session,
        MemoryBroker(),
        actor=actor,
        slug="youth-ict",
        fields=GroupFields("Youth & ICT", "Renamed.", "africa", ("C1", "C7")),
    )
    assert (edited.id, edited.name, edited.description, edited.region) == (
        group.id,
        "Youth & ICT",
        "Renamed.",
        "africa",
    )
    linked = await session.scalar(
        select(func.count())
        .select_from(GroupActionLine)
        .where(GroupActionLine.group_id == group.id)
    )
    assert linked == 2
    await session.commit()

    # Two made at once with one address: the second's check saw nothing; the index decides.
    async def nothing(*_: object) -> None:
        return None

    monkeypatch.setattr(secretariat, "get_group", nothing)
    counted = await rows(session, Group, Room, GroupActionLine)
    with pytest.raises(ForumError) as taken:
        await secretariat.do_create_group(
            session,
            actor=actor,
            slug="youth-ict",
            kind="caucus",
            family="civil_society",
            fields=FIELDS,
        )
    assert (taken.value.code, taken.value.field) == (ErrorCode.CONFLICT, "slug")
    assert await rows(session, Group, Room, GroupActionLine) == counted


async def test_an_unknown_action_line_is_not_edited(session: AsyncSession) -> None:
    actor = await person(session, secretariat=True)
    with pytest.raises(ForumError) as caught:
        await secretariat.do_edit_action_line(
            session,
            MemoryBroker(),
            actor=actor,
            code="C99",
            title="New",
            description="",
            facilitators="",
        )
    assert caught.value.code is ErrorCode.NOT_FOUND
