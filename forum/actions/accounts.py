"""Registration, sign-in and sign-out."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from forum.actions.outbox import publish
from forum.auth import BEARER_PREFIX, new_token, token_hash
from forum.broker import Broker, user_channel
from forum.db.base import utcnow
from forum.db.engine import end_read, write_transaction
from forum.db.models import AuthSession, User
from forum.db.queries import get_user_by_email
from forum.domain.regions import region_of
from forum.domain.textcheck import clean_line
from forum.domain.vocabulary import Family
from forum.errors import N_, ErrorCode, ForumError
from forum.limits import Limit, RateLimiter, rate_limited
from forum.passwords import Hasher, check_password_policy, hasher
from forum.wire.events import SessionEnded

# Deliberately loose: one @, no spaces, a dot in the domain. Deliverability is the
# mail server's to judge, not a regular expression's.
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")


@dataclass(frozen=True)
class Registration:
    email: str
    password: str
    display_name: str
    family: Family
    organization: str
    country: str
    region: str


@dataclass(frozen=True)
class LoginPolicy:
    """How many failed sign-ins a window allows, by who tries from where.

    A hall of delegates shares one address: a person mistyping is stopped at
    `attempts` for their account from that address, and nobody else is; guessing one
    account from many addresses is stopped at `account_attempts`; guessing many
    accounts from one address at `address_attempts`, a bar a whole hall's mistypes
    stay under.
    """

    attempts: int
    account_attempts: int
    address_attempts: int
    window: float

    def limits(self, email: str, client_ip: str) -> tuple[Limit, ...]:
        # Keyed on the address typed, known or not, so that the limits say nothing
        # about which accounts exist. An address has no space in it: the pair is unique.
        return (
            Limit(f"login:pair:{client_ip} {email}", self.attempts, self.window),
            Limit(f"login:account:{email}", self.account_attempts, self.window),
            Limit(f"login:ip:{client_ip}", self.address_attempts, self.window),
        )


@dataclass(frozen=True)
class SignIn:
    user: User
    token: str  # shown once: the cookie's or the API client's secret


def normalize_email(email: str) -> str:
    return unicodedata.normalize("NFC", email.strip()).lower()


def check_register(
    *,
    email: str,
    password: str,
    display_name: str,
    family: str,
    organization: str,
    country: str,
) -> Registration:
    email = normalize_email(email)
    if len(email) > 254 or not _EMAIL.match(email):
        raise ForumError(ErrorCode.VALIDATION, N_("This is not an email address."), field="email")
    if not family.strip():
        raise ForumError(
            ErrorCode.VALIDATION, N_("Choose your stakeholder family."), field="family"
        )
    try:
        family_value = Family(family)
    except ValueError:
        raise ForumError(
            ErrorCode.VALIDATION,
            N_("Unknown stakeholder family; use one of: {families}."),
            params={"families": ", ".join(f.value for f in Family)},
            field="family",
        ) from None
    country = country.strip().upper()
    if not country:
        raise ForumError(ErrorCode.VALIDATION, N_("Choose your country."), field="country")
    region = region_of(country)
    if region is None:
        raise ForumError(
            ErrorCode.VALIDATION,
            N_("Unknown country; use its two-letter ISO 3166 code, such as KE or BR."),
            field="country",
        )
    name = clean_line(display_name, field="display_name", max_chars=100)
    org = clean_line(organization, field="organization", max_chars=200)
    check_password_policy(password, email=email, name=name)
    return Registration(email, password, name, family_value, org, country, region)


async def do_register(
    session: AsyncSession, registration: Registration, *, passwords: Hasher | None = None
) -> User:
    """`passwords` hashes at the settings' cost; the library's recommended one by default."""
    password_hash = await (passwords or hasher()).hash_async(registration.password)
    user = User(
        email=registration.email,
        password_hash=password_hash,
        display_name=registration.display_name,
        family=registration.family,
        organization=registration.organization,
        country=registration.country,
        region=registration.region,
    )
    try:
        async with write_transaction(session):
            if await get_user_by_email(session, registration.email) is not None:
                raise _email_taken()
            session.add(user)
    except IntegrityError:
        # Two registrations with one address raced past the check: the index decides.
        raise _email_taken() from None
    return user


def _email_taken() -> ForumError:
    return ForumError(
        ErrorCode.EMAIL_TAKEN,
        N_("An account with this email exists already; sign in instead."),
        field="email",
    )


async def do_login(
    session: AsyncSession,
    limiter: RateLimiter,
    *,
    email: str,
    password: str,
    client_ip: str,
    kind: str,
    max_age: int,
    policy: LoginPolicy,
    passwords: Hasher | None = None,
) -> SignIn:
    """Check a password and open a session.

    Unknown email and wrong password answer alike and cost alike (one argon2 hash each).
    Each attempt is counted before its password is checked, in one atomic step with the
    decision, so a burst of guesses sent at once gets no more checks than a slow series:
    once over a limit, even the right password is refused until the window passes. A
    successful attempt is given back; failures stay counted for the whole window.
    """
    email = normalize_email(email)
    limits = policy.limits(email, client_ip)
    retry_after = await limiter.hit(*limits)
    if retry_after is not None:
        raise rate_limited(retry_after, N_("Too many sign-in attempts; try again in {seconds} s."))
    user = await get_user_by_email(session, email) if len(email) <= 254 else None
    await end_read(session)
    passwords = passwords or hasher()
    ok = await passwords.verify_async(user.password_hash if user else None, password)
    if user is None or not ok or not user.is_active:
        raise ForumError(
            ErrorCode.INVALID_CREDENTIALS,
            N_("Wrong email or password."),
            subject_id=user.id if user else None,
        )
    await limiter.forget(*(limit.key for limit in limits))
    token = (BEARER_PREFIX if kind == "bearer" else "") + new_token()
    rehash = (
        await passwords.hash_async(password) if passwords.needs_rehash(user.password_hash) else None
    )
    async with write_transaction(session):
        if rehash is not None:
            user.password_hash = rehash
            session.add(user)
        auth_session = AuthSession(
            token_hash=token_hash(token),
            user_id=user.id,
            kind=kind,
            expires_at=utcnow() + timedelta(seconds=max_age),
        )
        session.add(auth_session)
    return SignIn(user=user, token=token)


async def do_logout(
    session: AsyncSession, broker: Broker, *, user_id: int, session_id: int
) -> None:
    """End a session on the server; its open WebSockets close on the published event."""
    async with write_transaction(session):
        await session.execute(delete(AuthSession).where(AuthSession.id == session_id))
    ended: SessionEnded = {"type": "session", "op": "ended", "session_id": session_id}
    await publish(broker, user_channel(user_id), ended)
