"""Durable timers of an aggregate: rows written with its state, fired by a periodic job.

Appeals (督办 levels) and projects (missed milestones, the notice) keep their timers
alike: in the transaction of every state change the aggregate's unfired rows become
exactly those its state wants (`TimerTable.schedule`); a job claims the earliest due row
(FOR UPDATE SKIP LOCKED, so two instances never take the same one), replays the
aggregate, and either records what firing it means and keeps the row as fired, or drops
it when the state no longer wants it. A crash before the commit leaves the timer due for
the next tick. A service gives only its table and its rule of what a timer means.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import asyncpg

from minsheng.aggregate import Sequenced
from minsheng.clock import Clock
from minsheng.commands import Journal
from minsheng.db import Conn
from minsheng.jobs import periodic
from minsheng.service import Job

S = TypeVar("S")


@dataclass(frozen=True)
class Timer:
    """One timer of the aggregate `aggregate_id`: `what` it is (the values of its
    table's `what` columns, in order), due at `due_at`."""

    aggregate_id: str
    what: tuple[Any, ...]
    due_at: datetime


@dataclass(frozen=True)
class TimerTable:
    """A service's timer table: `key` names the aggregate (a row of `rows`), `what`
    the (column, PostgreSQL type) pairs that with it make a timer's primary key, `due`
    the instant it falls due; `fired_at` is stamped when it fired."""

    table: str  # "supervision_timers"
    rows: str  # "appeals"
    key: str  # "appeal_id"
    what: tuple[tuple[str, str], ...]  # (("level", "text"), ("deadline", "timestamptz"))
    due: str = "due_at"

    @property
    def _what(self) -> str:
        return ", ".join(column for column, _ in self.what)

    def rows_of(self, timers: Iterable[Timer]) -> list[tuple[Any, ...]]:
        """Timers as rows: (aggregate id, *what, due), for a statement of the service's own."""
        return [(t.aggregate_id, *t.what, t.due_at) for t in timers]

    async def schedule(self, conn: Conn, wanted: Mapping[str, Sequence[Timer]]) -> None:
        """Makes each aggregate's unfired timers exactly `wanted[aggregate id]`, in the
        caller's transaction; fired rows stay, as the record of what was sent."""
        if not wanted:
            return
        arrays = ", ".join(f"${i}::{kind}[]" for i, (_, kind) in enumerate(self.what, start=2))
        await conn.executemany(
            f"""DELETE FROM {self.table}
                WHERE {self.key} = $1 AND fired_at IS NULL
                  AND ({self._what}) NOT IN (SELECT * FROM unnest({arrays}))""",
            [
                (aggregate_id, *(list(column) for column in _columns(timers, len(self.what))))
                for aggregate_id, timers in wanted.items()
            ],
        )
        values = ", ".join(f"${i}" for i in range(1, len(self.what) + 3))
        await conn.executemany(
            f"""INSERT INTO {self.table} ({self.key}, {self._what}, {self.due})
                VALUES ({values}) ON CONFLICT DO NOTHING""",
            self.rows_of(t for timers in wanted.values() for t in timers),
        )

    async def claim_due(self, conn: Conn, now: datetime) -> Timer | None:
        """Locks the earliest due timer and its aggregate, skipping those another
        instance holds: never waiting on a lock, the job cannot deadlock with a command
        (which locks the aggregate, then its timers)."""
        row = await conn.fetchrow(
            f"""SELECT t.{self.key}, {", ".join(f"t.{c}" for c, _ in self.what)}, t.{self.due}
                FROM {self.table} t JOIN {self.rows} a ON a.id = t.{self.key}
                WHERE t.fired_at IS NULL AND t.{self.due} <= $1
                ORDER BY t.{self.due}
                LIMIT 1
                FOR UPDATE OF t, a SKIP LOCKED""",
            now,
        )
        if row is None:
            return None
        return Timer(row[0], tuple(row[1:-1]), row[-1])

    async def drop(self, conn: Conn, timer: Timer) -> None:
        """Removes a timer the state no longer wants."""
        match = " AND ".join(f"{c} = ${i}" for i, (c, _) in enumerate(self.what, start=2))
        await conn.execute(
            f"DELETE FROM {self.table} WHERE {self.key} = $1 AND {match}",
            timer.aggregate_id,
            *timer.what,
        )

    async def mark_fired(self, conn: Conn, timer: Timer, at: datetime) -> None:
        """Keeps the timer as fired at `at` (also after `schedule` dropped it as no
        longer wanted by the state that firing it led to)."""
        n = len(self.what)
        values = ", ".join(f"${i}" for i in range(1, n + 4))
        await conn.execute(
            f"""INSERT INTO {self.table} ({self.key}, {self._what}, {self.due}, fired_at)
                VALUES ({values})
                ON CONFLICT ({self.key}, {self._what}) DO UPDATE SET fired_at = ${n + 3}""",
            *self.rows_of([timer])[0],
            at,
        )


def _columns(timers: Sequence[Timer], width: int) -> list[list[Any]]:
    return [list(c) for c in zip(*(t.what for t in timers), strict=True)] or [[]] * width


Fire = Callable[[S, Timer, datetime], tuple[S, list[Sequenced]] | None]


async def fire_due(
    pool: asyncpg.Pool, now: datetime, table: TimerTable, journal: Journal[S], fire: Fire[S]
) -> int:
    """Handles every timer due at `now`, one transaction each; returns how many fired.

    `fire` is the service's rule: the outcome of the timer firing now, or None when the
    state no longer wants it (then the row is dropped)."""
    count = 0
    async with pool.acquire() as conn:
        while True:
            async with conn.transaction():
                timer = await table.claim_due(conn, now)
                if timer is None:
                    return count
                state = await journal.load_state(conn, timer.aggregate_id)
                assert state is not None  # the timer's foreign key
                outcome = fire(state, timer, now)
                if outcome is None:
                    await table.drop(conn, timer)
                    continue
                await journal.record(conn, *outcome, now)
                await table.mark_fired(conn, timer, now)
                count += 1


def timer_job(
    name: str,
    clock: Clock,
    interval: float,
    table: TimerTable,
    journal: Journal[S],
    fire: Fire[S],
) -> Job:
    """The job for `Runtime.jobs`: `fire_due` every `interval` seconds, "now" from `clock`."""
    return periodic(
        name, interval, lambda runtime: fire_due(runtime.db(), clock(), table, journal, fire)
    )
