"""Caps on open connections (room WebSockets and server-sent event streams).

Each open connection holds one slot under several keys: everyone's, the address's and,
when signed in, the account's; signed-out connections hold theirs under budgets of
their own (in all and per address), so that a flood of them cannot take the places of
signed-in people. A connection is admitted only if every key has room, and then counts
under all of them at once; `Admission.release` gives the slots back, once, however the
connection ends.

The counting sits behind `ConnectionCounter`: the in-memory one serves one process; a
Redis one (an `INCR` per key in one script, undone when any is over) can take its place
for several workers without changing the callers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from forum.errors import N_, ErrorCode, ForumError
from forum.settings import Settings

EVERYONE = "all"
SIGNED_OUT = "signed-out"
# The refusals, whole sentences for translators, by the cap that is full.
_SERVER_FULL = {
    EVERYONE: N_("The server takes no more connections from anyone now; try again later."),
    SIGNED_OUT: N_(
        "The server takes no more connections from signed-out readers now; try again later."
    ),
}
_TOO_MANY = {
    "account": N_("Too many open connections from your account; close one and try again."),
    "address": N_("Too many open connections from your address; close one and try again."),
    "signed-out-address": N_(
        "Too many open connections from your address while signed out; close one and try again."
    ),
}


class ConnectionCounter(Protocol):
    async def acquire(self, limits: Mapping[str, int]) -> str | None:
        """Count one connection under every key of `limits` if each stays within its
        limit; otherwise count none and return the first key that is full."""

    async def release(self, keys: Sequence[str]) -> None:
        """Uncount one connection under each of `keys`."""

    async def count(self, key: str) -> int: ...


class MemoryConnectionCounter:
    """One process's counts. Keys at zero are dropped, so addresses do not pile up."""

    def __init__(self) -> None:
        self._counts: dict[str, int] = {}

    async def acquire(self, limits: Mapping[str, int]) -> str | None:
        # No await between the check and the count: nothing else runs in between.
        for key, limit in limits.items():
            if self._counts.get(key, 0) >= limit:
                return key
        for key in limits:
            self._counts[key] = self._counts.get(key, 0) + 1
        return None

    async def release(self, keys: Sequence[str]) -> None:
        for key in keys:
            left = self._counts.get(key, 0) - 1
            if left > 0:
                self._counts[key] = left
            else:
                self._counts.pop(key, None)

    async def count(self, key: str) -> int:
        return self._counts.get(key, 0)


@dataclass(frozen=True)
class ConnectionLimits:
    total: int
    signed_out: int
    per_address: int
    signed_out_per_address: int
    per_account: int

    @classmethod
    def from_settings(cls, settings: Settings) -> ConnectionLimits:
        return cls(
            total=settings.max_connections,
            signed_out=settings.max_signed_out_connections,
            per_address=settings.max_connections_per_address,
            signed_out_per_address=settings.max_signed_out_connections_per_address,
            per_account=settings.max_connections_per_account,
        )


class Admission:
    """The slots one connection holds; `release` is safe to call more than once."""

    def __init__(self, counter: ConnectionCounter, keys: Sequence[str]) -> None:
        self._counter = counter
        self._keys: Sequence[str] | None = keys

    async def release(self) -> None:
        keys, self._keys = self._keys, None
        if keys:
            await self._counter.release(keys)


class ConnectionCaps:
    """Admit a connection from `address`, signed in as `user_id` or signed out."""

    def __init__(self, counter: ConnectionCounter, limits: ConnectionLimits) -> None:
        self.counter = counter
        self.limits = limits

    def _limits(self, address: str, user_id: int | None) -> dict[str, int]:
        """The keys a connection counts under, the caller's own first: when several are
        full, the refusal names the one the caller can do something about."""
        caps = self.limits
        if user_id is None:
            return {
                f"signed-out-address:{address}": caps.signed_out_per_address,
                f"address:{address}": caps.per_address,
                SIGNED_OUT: caps.signed_out,
                EVERYONE: caps.total,
            }
        return {
            f"account:{user_id}": caps.per_account,
            f"address:{address}": caps.per_address,
            EVERYONE: caps.total,
        }

    async def admit(self, *, address: str, user_id: int | None) -> Admission:
        """The connection's slots, or `too_many_connections` (429 for the caller's own
        caps, 503 when the server as a whole is full)."""
        limits = self._limits(address, user_id)
        full = await self.counter.acquire(limits)
        if full is None:
            return Admission(self.counter, list(limits))
        if full in {EVERYONE, SIGNED_OUT}:
            raise ForumError(
                ErrorCode.TOO_MANY_CONNECTIONS,
                _SERVER_FULL[full],
                status=503,
                retry_after=30,
                cap=full,
            )
        scope = full.split(":", 1)[0]
        raise ForumError(
            ErrorCode.TOO_MANY_CONNECTIONS, _TOO_MANY[scope], retry_after=30, cap=scope
        )
