"""All SQL of the appeals service; this module holds the `appeals` table and its history.

    receipts   new appeals in one statement each batch, and their Idempotency-Keys
    journal    an action's outcome: events to outbox and history, state, timers
    timers     the supervision timers (督办) and the job's claims on them
    intake     what other systems sent (intake_seen, intake_appeals)
    open311    the Open311 facade's reads
    serials    appeal numbers from the `appeal_number` sequence, a block at a time
    contacts   a citizen's phone by contact_ref, and the contact_lookups audit trail

The table's columns are `columns.AppealSummary`'s fields (and `columns.PRIVATE`); the
SQL below derives from that declaration.
"""

from __future__ import annotations

import types
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Union, get_args, get_origin

import asyncpg

from appeals.columns import PRIVATE, AppealSummary, source
from appeals.lifecycle import AppealState
from appeals.receiving import Appeal
from minsheng.auth import Principal
from minsheng.db import Conn
from minsheng.history import EventTables
from minsheng.querying import Keyset, Where, maybe_not

SHOWN: tuple[str, ...] = tuple(AppealSummary.model_fields)
APPEAL_COLUMNS = ", ".join(SHOWN)
CHANGING = tuple(c for c in SHOWN if source(c).of != "receipt")  # what `save_states` writes
_SQL_TYPES: dict[object, str] = {
    str: "text",
    int: "int4",
    bool: "bool",
    datetime: "timestamptz",
    list: "text[]",
}


def sql_type(column: str) -> str:
    """The column's PostgreSQL type, from its type in the summary."""
    kind: Any = AppealSummary.model_fields[column].annotation if column not in PRIVATE else str
    if get_origin(kind) in (Union, types.UnionType):
        (kind,) = (a for a in get_args(kind) if a is not type(None))
    return _SQL_TYPES[get_origin(kind) or kind]


def state_value(column: str, state: AppealState, now: datetime) -> Any:
    """The value of a column that actions change, for `state` written at `now`."""
    if source(column).of == "written":
        return now
    found = getattr(state, column)
    return list(found) if isinstance(found, tuple) else found


def value(column: str, appeal: Appeal, state: AppealState, now: datetime) -> Any:
    """The column's value for the just-received `appeal` in `state`, written at `now`."""
    if source(column).of != "receipt":
        return state_value(column, state, now)
    if hasattr(appeal.command, column):
        return getattr(appeal.command, column)
    return getattr(appeal, column)


async def next_serials(conn: Conn, n: int) -> list[int]:
    rows = await conn.fetch("SELECT nextval('appeal_number') FROM generate_series(1, $1)", n)
    return [int(r[0]) for r in rows]


async def get_appeal(conn: Conn | asyncpg.Pool, appeal_id: str) -> dict[str, Any] | None:
    row = await conn.fetchrow(f"SELECT {APPEAL_COLUMNS} FROM appeals WHERE id = $1", appeal_id)
    return None if row is None else dict(row)


async def deadline_of(conn: Conn, appeal_id: str) -> datetime | None:
    found: datetime | None = await conn.fetchval(
        "SELECT deadline FROM appeals WHERE id = $1", appeal_id
    )
    return found


TABLES = EventTables(rows="appeals", events="appeal_events", key="appeal_id")
append_history = TABLES.append

_SAVE = f"""UPDATE appeals SET {", ".join(f"{c} = ${i}" for i, c in enumerate(CHANGING, 2))}
            WHERE id = $1"""


async def save_states(conn: Conn, states: Sequence[tuple[AppealState, datetime]]) -> None:
    """Projects the lifecycle states onto the appeals' columns."""
    await conn.executemany(
        _SAVE,
        [(state.id, *(state_value(c, state, now) for c in CHANGING)) for state, now in states],
    )


OPEN_PAST_DEADLINE = "status NOT IN ('resolved', 'closed') AND deadline < $1"
UNCALLED = "status = 'resolved' AND rating IS NULL AND resolved_at < $1"
_PAGES = Keyset("appeals", APPEAL_COLUMNS, "received_at")


async def list_appeals(
    conn: Conn | asyncpg.Pool,
    *,
    statuses: Sequence[str],
    district: str | None,
    category: str | None,
    unit: str | None,
    overdue_at: tuple[bool, datetime] | None,
    uncalled_before: tuple[bool, datetime] | None,
    received_from: datetime | None,
    received_to: datetime | None,
    seen_by: Principal,
    cursor: str | None,
    limit: int,
) -> dict[str, Any]:
    """A page of appeals, newest first, and the next page's cursor. `overdue_at` is
    (wanted, now): still open past the deadline, or not; `uncalled_before` (wanted,
    cutoff): resolved before the cutoff and not called back, or not. A unit key
    (`seen_by`) sees only the appeals its unit leads or assists on."""
    where = Where()
    where.equal(district=district, category=category, unit=unit)
    where.any_of("status", statuses)
    if overdue_at is not None:
        where.add(maybe_not(OPEN_PAST_DEADLINE, overdue_at[0]), overdue_at[1])
    if uncalled_before is not None:
        where.add(maybe_not(UNCALLED, uncalled_before[0]), uncalled_before[1])
    if received_from is not None:
        where.add("received_at >= $1", received_from)
    if received_to is not None:
        where.add("received_at < $1", received_to)
    if seen_by.role == "unit":
        where.add("($1 = unit OR $1 = ANY(assisting_units))", seen_by.unit)
    return await _PAGES.page(conn, where, cursor, limit)
