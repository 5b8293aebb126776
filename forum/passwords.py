"""Password hashing (argon2id) and the password policy."""

from __future__ import annotations

import asyncio
import functools
import unicodedata
from typing import TYPE_CHECKING

from argon2 import DEFAULT_MEMORY_COST, DEFAULT_PARALLELISM, DEFAULT_TIME_COST, PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from forum.errors import N_, ErrorCode, ForumError

if TYPE_CHECKING:
    from forum.settings import Settings

MIN_LENGTH = 10
MAX_LENGTH = 256

# The most common passwords and their obvious forms; a longer list would only add weight.
_COMMON = frozenset(
    [
        "password",
        "password1",
        "password12",
        "password123",
        "password1234",
        "passw0rd",
        "passw0rd123",
        "123456789012",
        "1234567890",
        "12345678901",
        "qwertyuiop",
        "qwerty12345",
        "qwerty123456",
        "1q2w3e4r5t",
        "1qaz2wsx3edc",
        "iloveyou123",
        "letmein123",
        "welcome123",
        "welcome1234",
        "administrator",
        "admin12345",
        "changeme123",
        "football123",
        "baseball123",
        "sunshine123",
        "princess123",
        "dragon12345",
        "monkey12345",
        "abc1234567",
        "abcdefghij",
        "0987654321",
        "1111111111",
        "0000000000",
        "aaaaaaaaaa",
        "trustno1234",
        "superman123",
        "starwars123",
    ]
)


def normalize(password: str) -> str:
    return unicodedata.normalize("NFKC", password)


def check_password_policy(password: str, *, email: str = "", name: str = "") -> None:
    value = normalize(password)
    if len(value) < MIN_LENGTH:
        raise ForumError(
            ErrorCode.WEAK_PASSWORD,
            N_("The password must have at least {min} characters."),
            params={"min": MIN_LENGTH},
            field="password",
        )
    if len(value) > MAX_LENGTH:
        raise ForumError(
            ErrorCode.VALIDATION,
            N_("The password may have at most {max} characters."),
            params={"max": MAX_LENGTH},
            field="password",
        )
    lowered = value.lower()
    if lowered in _COMMON or len(set(lowered)) < 4:
        raise ForumError(
            ErrorCode.WEAK_PASSWORD,
            N_("This password is too common or too simple."),
            field="password",
        )
    local = email.split("@", 1)[0].lower()
    if (local and len(local) >= 4 and local in lowered) or (name and lowered == name.lower()):
        raise ForumError(
            ErrorCode.WEAK_PASSWORD,
            N_("The password must not contain your email or name."),
            field="password",
        )


class Hasher:
    """argon2id at one cost. A hash made at another cost still verifies, and
    `needs_rehash` says so, so that sign-in can store it again at this one."""

    def __init__(
        self,
        *,
        time_cost: int = DEFAULT_TIME_COST,
        memory_cost: int = DEFAULT_MEMORY_COST,
        parallelism: int = DEFAULT_PARALLELISM,
    ) -> None:
        self._hasher = PasswordHasher(
            time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism
        )
        # Verified against when the email is unknown, so that both paths cost one hash.
        self._dummy_hash = self._hasher.hash("agora-no-such-account")

    def hash(self, password: str) -> str:
        return self._hasher.hash(normalize(password))

    def verify(self, stored_hash: str | None, password: str) -> bool:
        """True when the password matches; runs one full hash even when there is no account."""
        try:
            # verify() answers True or raises; the dummy hash costs the same as a real one.
            self._hasher.verify(stored_hash or self._dummy_hash, normalize(password))
            return stored_hash is not None
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored_hash: str) -> bool:
        return self._hasher.check_needs_rehash(stored_hash)

    async def hash_async(self, password: str) -> str:
        # Hashing takes tens of milliseconds of CPU: keep it off the event loop.
        return await asyncio.to_thread(self.hash, password)

    async def verify_async(self, stored_hash: str | None, password: str) -> bool:
        return await asyncio.to_thread(self.verify, stored_hash, password)


@functools.cache
def hasher(
    time_cost: int = DEFAULT_TIME_COST,
    memory_cost: int = DEFAULT_MEMORY_COST,
    parallelism: int = DEFAULT_PARALLELISM,
) -> Hasher:
    """One hasher per cost for the process: its dummy hash is made once. The defaults
    are the library's recommended parameters, those of production."""
    return Hasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism)


def hasher_for(settings: Settings) -> Hasher:
    return hasher(
        settings.password_time_cost, settings.password_memory_cost, settings.password_parallelism
    )
