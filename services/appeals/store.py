"""SQL of the appeals service."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg

from appeals.domain import Appeal
from appeals.lifecycle import AppealState
from minsheng.db import Conn
from minsheng.history import EventTables

APPEAL_COLUMNS = """id, status, sequence, title, description, category, district, street, community,
    channel, contact_ref, received_at, deadline, unit, assisting_units, resolved_at, on_time,
    rating, outcome, updated_at"""


async def next_serials(conn: Conn, n: int) -> list[int]:
    rows = await conn.fetch("SELECT nextval('appeal_number') FROM generate_series(1, $1)", n)
    return [int(r[0]) for r in rows]


async def insert_appeals(
    conn: Conn, appeals: Sequence[tuple[Appeal, AppealState, datetime]]
) -> None:
    """New appeals with the state their first events led to (no UPDATE right after)."""
    await conn.executemany(
        """INSERT INTO appeals (id, title, description, category, district, street, community,
                                channel, phone, contact_name, contact_ref, received_at,
                                status, sequence, deadline, unit, assisting_units,
                                resolved_at, on_time, rating, outcome, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12,
                   $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)""",
        [
            (
                a.id,
                a.command.title,
                a.command.description,
                a.command.category,
                a.command.district,
                a.command.street,
                a.command.community,
                a.command.channel,
                a.command.phone,
                a.command.contact_name,
                a.contact_ref,
                a.received_at,
                *_state_columns(state, now),
            )
            for a, state, now in appeals
        ],
    )


async def claim_idempotency_keys(conn: Conn, claims: dict[str, str]) -> dict[str, str]:
    """Records each key for its appeal (key -> appeal id); returns the keys already
    used, with the appeal that holds each. Keys go in sorted order, so two transactions
    claiming overlapping keys wait on each other instead of deadlocking."""
    keys = sorted(claims)
    mine = await conn.fetch(
        """INSERT INTO idempotency_keys (key, appeal_id)
           SELECT * FROM unnest($1::text[], $2::text[])
           ON CONFLICT (key) DO NOTHING RETURNING key""",
        keys,
        [claims[k] for k in keys],
    )
    taken = set(keys) - {r["key"] for r in mine}
    if not taken:
        return {}
    rows = await conn.fetch(
        "SELECT key, appeal_id FROM idempotency_keys WHERE key = ANY($1::text[])", list(taken)
    )
    return {r["key"]: r["appeal_id"] for r in rows}


async def get_appeal(conn: Conn | asyncpg.Pool, appeal_id: str) -> dict[str, Any] | None:
    row = await conn.fetchrow(f"SELECT {APPEAL_COLUMNS} FROM appeals WHERE id = $1", appeal_id)
    return None if row is None else dict(row)


_TABLES = EventTables(rows="appeals", events="appeal_events", key="appeal_id")
lock_appeal = _TABLES.lock
history = _TABLES.history
append_history = _TABLES.append


async def save_states(conn: Conn, states: Sequence[tuple[AppealState, datetime]]) -> None:
    """Projects the lifecycle states onto the appeals' columns."""
    await conn.executemany(
        """UPDATE appeals SET status = $2, sequence = $3, deadline = $4, unit = $5,
                  assisting_units = $6, resolved_at = $7, on_time = $8, rating = $9,
                  outcome = $10, updated_at = $11
           WHERE id = $1""",
        [(state.id, *_state_columns(state, now)) for state, now in states],
    )


def _state_columns(state: AppealState, now: datetime) -> tuple[Any, ...]:
    return (
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
