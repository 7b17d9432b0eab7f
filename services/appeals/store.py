"""SQL of the appeals service."""

from __future__ import annotations

from typing import Any

import asyncpg

from appeals.domain import Appeal
from minsheng.db import Conn


async def next_serial(conn: Conn) -> int:
    value = await conn.fetchval("SELECT nextval('appeal_number')")
    return int(value)


async def insert_appeal(conn: Conn, appeal: Appeal) -> None:
    c = appeal.command
    await conn.execute(
        """INSERT INTO appeals (id, status, sequence, title, description, category, district,
                                street, community, channel, phone, contact_name, contact_ref,
                                received_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)""",
        appeal.id,
        appeal.status,
        appeal.sequence,
        c.title,
        c.description,
        c.category,
        c.district,
        c.street,
        c.community,
        c.channel,
        c.phone,
        c.contact_name,
        appeal.contact_ref,
        appeal.received_at,
    )


async def claim_idempotency_key(conn: Conn, key: str, appeal_id: str) -> str | None:
    """Records the key for this appeal; returns the existing appeal id if the key was used."""
    mine = await conn.fetchval(
        """INSERT INTO idempotency_keys (key, appeal_id) VALUES ($1, $2)
           ON CONFLICT (key) DO NOTHING RETURNING appeal_id""",
        key,
        appeal_id,
    )
    if mine is not None:
        return None
    owner = await conn.fetchval("SELECT appeal_id FROM idempotency_keys WHERE key = $1", key)
    return str(owner)


async def get_appeal(conn: Conn | asyncpg.Pool, appeal_id: str) -> dict[str, Any] | None:
    row = await conn.fetchrow(
        """SELECT id, status, sequence, title, description, category, district, street,
                  community, channel, contact_ref, received_at, deadline
           FROM appeals WHERE id = $1""",
        appeal_id,
    )
    return None if row is None else dict(row)
