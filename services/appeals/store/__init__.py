"""SQL of the appeals service."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import asyncpg

from appeals.domain import Appeal
from appeals.lifecycle import AppealState
from minsheng import outbox
from minsheng.db import Conn
from minsheng.events import CloudEvent
from minsheng.history import EventTables

APPEAL_COLUMNS = """id, status, sequence, title, description, category, district, street, community,
    channel, contact_ref, received_at, deadline, unit, assisting_units, resolved_at, on_time,
    rating, outcome, updated_at"""


async def next_serials(conn: Conn, n: int) -> list[int]:
    rows = await conn.fetch("SELECT nextval('appeal_number') FROM generate_series(1, $1)", n)
    return [int(r[0]) for r in rows]


async def insert_received(
    conn: Conn,
    appeals: Sequence[tuple[Appeal, AppealState, datetime, str | None]],
    events: Sequence[CloudEvent],
    timers: Sequence[tuple[str, str, datetime, datetime]],
    *,
    topic: str,
) -> set[str]:
    """New appeals (each with its Idempotency-Key or None), their events (outbox and
    history) and their supervision timers, in one statement: one round trip, atomic on
    its own, or part of the caller's transaction if there is one.

    An appeal whose key another appeal already holds is left out, with its events and
    timers; the keys of those are returned (`key_holders` says who holds them). Keys
    are claimed in sorted order, so two statements claiming overlapping keys wait on
    each other instead of deadlocking; one claim of a key is in the list at most."""
    keys = sorted((key, a.id) for a, _, _, key in appeals if key is not None)
    rows = [
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
            *_state_columns(state, now, assisting=_array_literal),
            key,
        )
        for a, state, now, key in appeals
    ]
    history = [
        (
            e.subject,
            e.sequence,
            e.id,
            e.type,
            e.to_json().decode(),
            json.dumps(e.data, ensure_ascii=False),
            e.time,
        )
        for e in events
    ]
    lost = await conn.fetchval(
        _INSERT_RECEIVED,
        [k for k, _ in keys],
        [appeal_id for _, appeal_id in keys],
        *_columns(rows, len(_APPEAL_ARRAYS)),
        *_columns(history, 7),
        *_columns(timers, 4),
        topic,
    )
    return set(lost)


async def key_holders(conn: Conn, keys: Sequence[str]) -> dict[str, str]:
    """The appeal that holds each of these Idempotency-Keys."""
    rows = await conn.fetch(
        "SELECT key, appeal_id FROM idempotency_keys WHERE key = ANY($1::text[])", list(keys)
    )
    return {r["key"]: r["appeal_id"] for r in rows}


def _array_literal(items: list[str]) -> str:
    """`['a', 'b"c']` -> `{"a","b\\"c"}`: a text[] as PostgreSQL reads it from text."""
    quoted = ('"' + i.replace("\\", "\\\\").replace('"', '\\"') + '"' for i in items)
    return "{" + ",".join(quoted) + "}"


def _columns(rows: Sequence[tuple[Any, ...]], width: int) -> list[list[Any]]:
    """Rows to one list per column, as `unnest` takes them back."""
    return [list(column) for column in zip(*rows, strict=True)] if rows else [[]] * width


# (column, array type) of each appeal, in the order of `insert_received`'s rows
_APPEAL_ARRAYS = [
    ("id", "text"),
    ("title", "text"),
    ("description", "text"),
    ("category", "text"),
    ("district", "text"),
    ("street", "text"),
    ("community", "text"),
    ("channel", "text"),
    ("phone", "text"),
    ("contact_name", "text"),
    ("contact_ref", "text"),
    ("received_at", "timestamptz"),
    ("status", "text"),
    ("sequence", "int4"),
    ("deadline", "timestamptz"),
    ("unit", "text"),
    ("assisting_units", "text"),  # a PostgreSQL array literal: unnest would flatten text[][]
    ("resolved_at", "timestamptz"),
    ("on_time", "bool"),
    ("rating", "text"),
    ("outcome", "text"),
    ("updated_at", "timestamptz"),
    ("idempotency_key", "text"),
]


def _insert_received_sql() -> str:
    first = 3  # $1 and $2: the keys and their appeals
    appeal_params = ", ".join(
        f"${first + i}::{kind}[]" for i, (_, kind) in enumerate(_APPEAL_ARRAYS)
    )
    names = [name for name, _ in _APPEAL_ARRAYS]
    stored = ", ".join(names[:-1])
    selected = stored.replace("assisting_units", "assisting_units::text[]")
    e = first + len(_APPEAL_ARRAYS)
    t = e + 7
    return f"""
    WITH claimed AS (
        INSERT INTO idempotency_keys (key, appeal_id)
        SELECT * FROM unnest($1::text[], $2::text[])
        ON CONFLICT (key) DO NOTHING
        RETURNING key
    ), kept AS (
        SELECT * FROM unnest({appeal_params}) AS a({", ".join(names)})
        WHERE idempotency_key IS NULL OR idempotency_key IN (SELECT key FROM claimed)
    ), appeals_in AS (
        INSERT INTO appeals ({stored}) SELECT {selected} FROM kept
    ), events AS (
        SELECT * FROM unnest(${e}::text[], ${e + 1}::int4[], ${e + 2}::uuid[], ${e + 3}::text[],
                             ${e + 4}::text[], ${e + 5}::text[], ${e + 6}::timestamptz[])
            AS e(aggregate_id, sequence, event_id, type, payload, data, time)
        WHERE aggregate_id IN (SELECT id FROM kept)
    ), outbox_in AS (
        {outbox.insert_from("events", topic=f"${t + 4}")}
    ), history_in AS (
        INSERT INTO appeal_events (appeal_id, sequence, type, data, time, event_id)
        SELECT aggregate_id, sequence, type, data::jsonb, time, event_id FROM events
    ), timers_in AS (
        INSERT INTO supervision_timers (appeal_id, level, deadline, due_at)
        SELECT * FROM unnest(${t}::text[], ${t + 1}::text[], ${t + 2}::timestamptz[],
                             ${t + 3}::timestamptz[]) AS t(appeal_id, level, deadline, due_at)
        WHERE appeal_id IN (SELECT id FROM kept)
        ON CONFLICT DO NOTHING
    )
    SELECT array(SELECT unnest($1::text[]) EXCEPT SELECT key FROM claimed), {outbox.NOTIFY}"""


_INSERT_RECEIVED = _insert_received_sql()


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


def _state_columns(
    state: AppealState, now: datetime, assisting: Callable[[list[str]], Any] = list
) -> tuple[Any, ...]:
    return (
        state.status,
        state.sequence,
        state.deadline,
        state.unit,
        assisting(list(state.assisting_units)),
        state.resolved_at,
        state.on_time,
        state.rating,
        state.outcome,
        now,
    )
