"""Bearer API keys with roles, checked against hashes in the service's own database.

Every way a service takes a key (the `Authorization: Bearer` header of its routes, the
Open311 facade's `api_key`) ends in `bearer_key` and one `KeyCache` per service, so a
key is read and checked the same way whichever door it comes through.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

import asyncpg

from minsheng.db import Conn

Role = Literal["operator", "unit", "supervisor", "system", "viewer"]


@dataclass(frozen=True)
class Principal:
    name: str
    role: Role
    unit: str | None = None


Identify = Callable[[str], Awaitable[Principal | None]]  # a key -> its principal, or None


def bearer_key(authorization: str | None) -> str | None:
    """The key of an `Authorization: Bearer <key>` header; None for any other header."""
    scheme, _, key = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        return None
    return key.strip()


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def new_key() -> str:
    return "msk_" + secrets.token_urlsafe(24)


async def register_key(
    conn: Conn, key: str, *, name: str, role: Role, unit: str | None = None
) -> None:
    await conn.execute(
        """INSERT INTO api_keys (key_hash, name, role, unit) VALUES ($1, $2, $3, $4)
           ON CONFLICT (key_hash)
           DO UPDATE SET name = $2, role = $3, unit = $4, revoked_at = NULL""",
        hash_key(key),
        name,
        role,
        unit,
    )


async def lookup(conn: Conn | asyncpg.Pool, key: str) -> Principal | None:
    row = await conn.fetchrow(
        "SELECT name, role, unit FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL",
        hash_key(key),
    )
    return None if row is None else Principal(row["name"], row["role"], row["unit"])


class KeyCache:
    """Recent successful lookups, kept `ttl` seconds, so checking a key is not a round
    trip to PostgreSQL on every request. A revoked key works at most `ttl` seconds more;
    unknown keys are never kept (guessing cannot fill the memory)."""

    def __init__(
        self, ttl: float, *, size: int = 1024, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl = ttl
        self.size = size
        self.clock = clock
        self._found: dict[str, tuple[float, Principal]] = {}

    def get(self, key: str) -> Principal | None:
        hit = self._found.get(key)
        if hit is None:
            return None
        if hit[0] <= self.clock():
            del self._found[key]
            return None
        return hit[1]

    def put(self, key: str, principal: Principal) -> None:
        if self.ttl <= 0:
            return
        if len(self._found) >= self.size:
            self._found.clear()  # rare, and simpler than an LRU: all are re-checked once
        self._found[key] = (self.clock() + self.ttl, principal)

    async def lookup(self, pool: asyncpg.Pool, key: str) -> Principal | None:
        found = self.get(key)
        if found is None:
            found = await lookup(pool, key)
            if found is not None:
                self.put(key, found)
        return found


def identifier(pool: Callable[[], asyncpg.Pool | None], cache_seconds: float) -> Identify:
    """The one key check of a service: found keys are remembered `cache_seconds`."""
    cache = KeyCache(cache_seconds)

    async def identify(key: str) -> Principal | None:
        current = pool()
        assert current is not None, "the service is not started"
        return await cache.lookup(current, key)

    return identify
