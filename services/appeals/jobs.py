"""The supervision job (督办): every few seconds, fire the timers that fell due.

Each timer is handled in one transaction: claim it (FOR UPDATE SKIP LOCKED, so two
instances never take the same one), replay the appeal, emit AppealEscalated through the
journal (outbox, history, next sequence) and stamp the timer fired. A crash before the
commit leaves the timer due for the next tick, of this instance or another; after it,
the timer is fired and the lifecycle refuses the level twice anyway. "Now" comes from
the app's injectable clock, read at each tick.
"""

from __future__ import annotations

from datetime import datetime

import asyncpg

from appeals import journal, lifecycle, timer_store
from appeals.supervision import due_escalations
from minsheng.clock import Clock
from minsheng.jobs import periodic
from minsheng.service import Job, Runtime


def supervision_job(clock: Clock, interval: float) -> Job:
    """The job for `Runtime.jobs`: backfills missing timers once, then ticks forever."""
    ticks = periodic("supervision", interval, lambda runtime: tick(runtime.db(), clock()))

    async def supervise(runtime: Runtime) -> None:
        await _backfill(runtime.db())
        await ticks(runtime)

    return supervise


async def tick(pool: asyncpg.Pool, now: datetime) -> int:
    """Handles every timer due at `now`, one transaction each; returns how many fired."""
    count = 0
    async with pool.acquire() as conn:
        while True:
            async with conn.transaction():
                timer = await timer_store.claim_due(conn, now)
                if timer is None:
                    return count
                state = await journal.load_state(conn, timer.appeal_id)
                assert state is not None  # the timer's foreign key
                if timer.level in due_escalations(state, now):
                    new, emitted = lifecycle.escalate(state, level=timer.level, now=now)
                    await journal.record(conn, new, emitted, now)
                    await timer_store.fired(conn, timer, now)
                    count += 1
                else:
                    await timer_store.drop(conn, timer)


async def _backfill(pool: asyncpg.Pool) -> None:
    """Schedules timers for appeals dispatched before timers existed (idempotent)."""
    async with pool.acquire() as conn:
        for appeal_id in await timer_store.unscheduled(conn):
            async with conn.transaction():
                state = await journal.load_state(conn, appeal_id)
                if state is not None:
                    await timer_store.schedule(conn, [state])
