"""Bearer API keys with roles, checked against hashes in the service's own database."""

from __future__ import annotations

import hashlib
import secrets
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
