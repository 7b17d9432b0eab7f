"""SQL of the appeals service."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import asyncpg

from appeals.domain import Appeal
from appeals.lifecycle import AppealState
from minsheng.db import Conn
from minsheng.events import CloudEvent

APPEAL_COLUMNS = """id, status, sequence, title, description, category, district, street, community,
    channel, contact_ref, received_at, deadline, unit, assisting_units, resolved_at, on_time,
    rating, outcome, updated_at"""


async def next_serial(conn: Conn) -> int:
    value = await conn.fetchval("SELECT nextval('appeal_number')")
    return int(value)


async def insert_appeal(conn: Conn, appeal: Appeal) -> None:
    c = appeal.command
    await conn.execute(
        """INSERT INTO appeals (id, status, sequence, title, description, category, district,
                                street, community, channel, phone, contact_name, contact_ref,
                                received_at, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14)""",
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
    row = await conn.fetchrow(f"SELECT {APPEAL_COLUMNS} FROM appeals WHERE id = $1", appeal_id)
    return None if row is None else dict(row)


async def lock_appeal(conn: Conn, appeal_id: str) -> bool:
    """Locks the appeal's row for the transaction: commands on one appeal run one by one."""
    found = await conn.fetchval("SELECT true FROM appeals WHERE id = $1 FOR UPDATE", appeal_id)
    return bool(found)


async def history(conn: Conn | asyncpg.Pool, appeal_id: str) -> list[dict[str, Any]]:
    """The appeal's events in order: sequence, type, data (decoded), time."""
    rows = await conn.fetch(
        """SELECT sequence, type, data, time FROM appeal_events
           WHERE appeal_id = $1 ORDER BY sequence""",
        appeal_id,
    )
    return [{**dict(r), "data": json.loads(r["data"])} for r in rows]


async def append_history(conn: Conn, event: CloudEvent) -> None:
    await conn.execute(
        """INSERT INTO appeal_events (appeal_id, sequence, type, data, time, event_id)
           VALUES ($1, $2, $3, $4, $5, $6)""",
        event.subject,
        event.sequence,
        event.type,
        json.dumps(event.data, ensure_ascii=False),
        event.time,
        event.id,
    )


async def save_state(conn: Conn, state: AppealState, now: datetime) -> None:
    """Projects the lifecycle state onto the appeal's columns."""
    await conn.execute(
        """UPDATE appeals SET status = $2, sequence = $3, deadline = $4, unit = $5,
                  assisting_units = $6, resolved_at = $7, on_time = $8, rating = $9,
                  outcome = $10, updated_at = $11
           WHERE id = $1""",
        state.id,
        state.status,
        state.sequence,
        state.deadline,
        state.unit,
        list(state.assisting_units),
        state.resolved_at,
        state.on_time,
        state.rating,
        state.outcome,
        now,
    )
